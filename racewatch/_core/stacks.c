/* capture(): the interned call stack of the caller, as stacks.capture gives it.
 *
 * A stack is a tuple of (code, lasti) pairs, innermost frame first, at most ``depth``
 * frames, racewatch's own modules left out and ending at a boundary module (the runner
 * that execs the script, pytest's test callers).  The walk reads only the code object and
 * the instruction offset of each frame, never its line number (a line-table scan).
 *
 * Identical stacks are interned (stack_intern.c).  On 3.11 and later each thread also
 * remembers its last few hundred walks (the frames each examined and the stack it gave):
 * a capture whose frames have the same code, offsets and globals as a remembered walk's
 * takes its stack after comparing them, without the walk's lookups of each frame's module,
 * the key's hash and its lookup.  Only its thread uses that memory (or the garbage
 * collector, with every thread stopped).  The set of left-out modules is copied on write
 * and published with one pointer store: readers never lock it.
 */

#include "core.h"

/* 3.11 and later: the interpreter's own frames, walked without making a frame object for
 * each (PyEval_GetFrame and PyFrame_GetBack make one per call they meet, and an access in a
 * method just called would pay for its whole stack's).  Their layout is in the internal
 * headers, read-only here, as profilers and Cython read them. */
#if RW_PY311
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include "internal/pycore_frame.h"
#endif

/* -- the modules whose frames are left out (kind 1) or end the stack (kind 2) ----------- */

/* Moves whenever what a walk does with a frame can change (a module left out, a code that
 * ends stacks): each thread's memory of its walks holds only for one value of it. */
static unsigned long walk_generation = 0;

static inline unsigned long
walk_generation_now(void)
{
    return RW_LOAD_ACQUIRE(&walk_generation);   /* then the sets it counts, as published */
}

static inline void
walk_generation_move(void)
{
    RW_ADD_RELEASE(&walk_generation, 1);
}

typedef struct {
    PyObject *globals;   /* a strong reference to the module's globals */
    int kind;
} rw_own_entry;

typedef struct {
    Py_ssize_t cap, n;
    rw_own_entry e[1];
} rw_own_set;

static rw_own_set *own_set = NULL;

static inline size_t
ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static inline const rw_own_set *
own_set_load(void)
{
    return RW_LOAD_ACQUIRE(&own_set);
}

static inline int
own_kind(const rw_own_set *s, const void *globals)
{
    if (s == NULL) {
        return 0;
    }
    size_t mask = (size_t)s->cap - 1;
    size_t i = ptr_hash(globals) & mask;
    while (s->e[i].globals != NULL) {
        if (s->e[i].globals == globals) {
            return s->e[i].kind;
        }
        i = (i + 1) & mask;
    }
    return 0;
}

static void
own_insert(rw_own_set *s, PyObject *globals, int kind)
{
    size_t mask = (size_t)s->cap - 1;
    size_t i = ptr_hash(globals) & mask;
    while (s->e[i].globals != NULL) {
        if (s->e[i].globals == globals) {
            if (kind > s->e[i].kind) {
                s->e[i].kind = kind;
            }
            Py_DECREF(globals);
            return;
        }
        i = (i + 1) & mask;
    }
    s->e[i].globals = globals;   /* the reference passes to the set */
    s->e[i].kind = kind;
    s->n++;
}

static int
own_add(PyObject *globals, int kind)
{
    const rw_own_set *old = own_set;
    Py_ssize_t n = old != NULL ? old->n + 1 : 1;
    Py_ssize_t cap = 16;
    while (cap < 2 * n) {
        cap *= 2;
    }
    rw_own_set *s = PyMem_Calloc(1, sizeof(rw_own_set) + (size_t)(cap - 1) * sizeof(rw_own_entry));
    if (s == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    s->cap = cap;
    if (old != NULL) {
        for (Py_ssize_t i = 0; i < old->cap; i++) {
            if (old->e[i].globals != NULL) {
                own_insert(s, old->e[i].globals, old->e[i].kind);   /* moves the reference */
            }
        }
    }
    own_insert(s, Py_NewRef(globals), kind);
#if defined(Py_GIL_DISABLED)
    /* A reader may still walk the old set: it is left allocated (a few per process). */
#if !defined(_MSC_VER)
    __atomic_store_n(&own_set, s, __ATOMIC_RELEASE);
#else
    own_set = s;
#endif
#else
    own_set = s;
    PyMem_Free((void *)old);
#endif
    walk_generation_move();   /* after the set it counts is published */
    return 0;
}

PyObject *
rw_mod_leave_out_frames_of(PyObject *Py_UNUSED(module), PyObject *globals)
{
    if (!PyDict_Check(globals)) {
        PyErr_SetString(PyExc_TypeError, "leave_out_frames_of: a module's globals dict");
        return NULL;
    }
    if (own_add(globals, 1) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *
rw_mod_end_stacks_at_frames_of(PyObject *Py_UNUSED(module), PyObject *globals)
{
    if (!PyDict_Check(globals)) {
        PyErr_SetString(PyExc_TypeError, "end_stacks_at_frames_of: a module's globals dict");
        return NULL;
    }
    if (own_add(globals, 2) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The code objects whose frames end a stack (threading's bootstrap of every thread: the
 * frames below it are the same in every stack of the thread, and resolved stacks leave
 * them out).  A few, set at import; each a strong reference, never released. */
#define END_CODES 4
static PyObject *end_codes[END_CODES];
static int n_end_codes = 0;

static inline int
is_end_code(const void *code)
{
    int n = RW_LOAD_ACQUIRE(&n_end_codes);   /* its entries are whole */
    for (int i = 0; i < n; i++) {
        if (end_codes[i] == code) {
            return 1;
        }
    }
    return 0;
}

PyObject *
rw_mod_end_stacks_at_code(PyObject *Py_UNUSED(module), PyObject *code)
{
    if (!PyCode_Check(code)) {
        PyErr_SetString(PyExc_TypeError, "end_stacks_at_code: a code object");
        return NULL;
    }
    if (!is_end_code(code)) {
        if (n_end_codes == END_CODES) {
            PyErr_SetString(PyExc_ValueError, "end_stacks_at_code: too many code objects");
            return NULL;
        }
        end_codes[n_end_codes] = Py_NewRef(code);
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
        __atomic_store_n(&n_end_codes, n_end_codes + 1, __ATOMIC_RELEASE);
#else
        n_end_codes++;
#endif
        walk_generation_move();
    }
    Py_RETURN_NONE;
}

/* -- walking the frames ------------------------------------------------------------------ */

#define SMALL_DEPTH 64   /* frames kept on the C stack while walking */

#define WALKED_MAX (SMALL_DEPTH + 16)   /* frames examined, left-out ones included */

static Py_ssize_t
walk(PyFrameObject *frame, Py_ssize_t depth, rw_frame_key *out)
{
    const rw_own_set *own = own_set_load();
    Py_ssize_t n = 0;
#if RW_PY311
    PyFrameObject *f = (PyFrameObject *)Py_XNewRef(frame);
    while (f != NULL) {
        PyObject *globals = PyFrame_GetGlobals(f);
        Py_DECREF(globals);   /* the frame keeps it alive: compared by address only */
        int kind = own_kind(own, globals);
        PyCodeObject *code = PyFrame_GetCode(f);
        Py_DECREF(code);      /* likewise */
        if (is_end_code(code)) {
            break;
        }
        if (kind == 0) {
            out[n].code = code;
            out[n].lasti = PyFrame_GetLasti(f);
            if (++n >= depth) {
                break;
            }
        }
        else if (kind == 2) {
            break;
        }
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    Py_XDECREF(f);
#else
    for (PyFrameObject *f = frame; f != NULL; f = f->f_back) {
        if (is_end_code(f->f_code)) {
            break;
        }
        int kind = own_kind(own, f->f_globals);
        if (kind == 0) {
            out[n].code = f->f_code;
            /* frame.f_lasti in Python: the offset in bytes of the instruction. */
            out[n].lasti = f->f_lasti < 0 ? -1 : (long)f->f_lasti * (long)sizeof(_Py_CODEUNIT);
            if (++n >= depth) {
                break;
            }
        }
        else if (kind == 2) {
            break;
        }
    }
#endif
    return n;
}

#if RW_PY311
static inline PyCodeObject *
iframe_code(_PyInterpreterFrame *f)
{
#if RW_PY313
    return _PyFrame_GetCode(f);
#else
    return f->f_code;
#endif
}

/* The frame's instruction pointer and code object, as the frame holds them (an entry
 * frame's code is not a code object on 3.13). */
static inline const void *
iframe_instr(const _PyInterpreterFrame *f)
{
#if RW_PY313
    return f->instr_ptr;
#else
    return f->prev_instr;
#endif
}

static inline const void *
iframe_executable(const _PyInterpreterFrame *f)
{
#if RW_PY313
    return f->f_executable;
#else
    return f->f_code;
#endif
}

/* Whether ``f`` is the frame ``w`` noted (core.h, rw_walked). */
static inline int
walked_is(const rw_walked *w, const _PyInterpreterFrame *f)
{
    return iframe_instr(f) == w->instr && iframe_executable(f) == w->code
           && f->owner == w->owner
           && (w->globals == NULL || (const void *)f->f_globals == w->globals);
}

static inline _PyInterpreterFrame *
current_iframe(void)
{
    PyThreadState *tstate = PyThreadState_Get();
#if RW_PY313
    return tstate->current_frame;
#else
    return tstate->cframe->current_frame;
#endif
}

/* walk() from the calling thread's innermost frame, read off the interpreter's frames:
 * the same (code, lasti) pairs as PyFrame_GetCode and PyFrame_GetLasti give for the frame
 * objects of PyEval_GetFrame and PyFrame_GetBack, which skip the same incomplete frames.
 * With ``seen``, it also notes every frame it passed, incomplete ones too (at most
 * WALKED_MAX: *nseen is -1 past them), and whether it stopped at the end of the frames
 * (*at_end). */
static Py_ssize_t
walk_current(Py_ssize_t depth, rw_frame_key *out, rw_walked *seen, Py_ssize_t *nseen,
             char *at_end)
{
    const rw_own_set *own = own_set_load();
    _PyInterpreterFrame *f = current_iframe();
    Py_ssize_t n = 0, k = 0;
    PyObject *last_globals = NULL;   /* consecutive frames are mostly of one module */
    int kind = 0;
    for (; f != NULL; f = f->previous) {
        int incomplete = _PyFrame_IsIncomplete(f);
        if (seen != NULL && k >= 0) {
            if (k < WALKED_MAX) {
                seen[k].instr = iframe_instr(f);
                seen[k].code = iframe_executable(f);
                seen[k].globals = incomplete ? NULL : f->f_globals;
                seen[k].owner = f->owner;
                k++;
            }
            else {
                k = -1;
            }
        }
        if (incomplete) {
            continue;
        }
        PyCodeObject *code = iframe_code(f);
        int lasti = _PyInterpreterFrame_LASTI(f);
        if (is_end_code(code)) {
            break;
        }
        if (f->f_globals != last_globals) {
            last_globals = f->f_globals;
            kind = own_kind(own, last_globals);
        }
        if (kind == 0) {
            out[n].code = code;
            out[n].lasti = lasti < 0 ? -1 : (long)lasti * (long)sizeof(_Py_CODEUNIT);
            if (++n >= depth) {
                break;
            }
        }
        else if (kind == 2) {
            break;
        }
    }
    if (seen != NULL) {
        *nseen = k;
        *at_end = f == NULL;
    }
    return n;
}
#endif

/* -- each thread's memory of its walks ------------------------------------------------------ */

/* A walk this thread made lately: the frames it examined, and the stack it gave.  A walk
 * that would examine frames of the same code, instruction offsets and globals gives the
 * same stack: checking that is a fraction of walking, hashing and looking the key up. */
#define WALK_MEMO_SIZE 256   /* entries, in pairs (memo_pair): a power of two */
#define WALK_MEMO_AFTER 256  /* walks a thread makes before it keeps them (a short-lived
                              * thread's few would not pay for the table's 14 KB) */

typedef struct {
    PyObject *stack;         /* a strong reference, or NULL for an empty entry */
    rw_walked *seen;         /* owned, ``cap`` long */
    Py_ssize_t nseen, cap, depth;
    unsigned long generation;
    char at_end;             /* the walk ran out of frames after the last one seen */
    char next;               /* the first of a pair: which of the two the next walk
                              * replaces (the one not used last) */
} rw_walk_memo;

struct rw_walk_memo_table {
    rw_walk_memo e[WALK_MEMO_SIZE];
};

int
rw_walk_memo_traverse(RW_ThreadState *ts, visitproc visit, void *arg)
{
    if (ts->walk_memo != NULL) {
        for (int i = 0; i < WALK_MEMO_SIZE; i++) {
            Py_VISIT(ts->walk_memo->e[i].stack);
        }
    }
    return 0;
}

void
rw_walk_memo_clear(RW_ThreadState *ts)
{
    if (ts->walk_memo != NULL) {
        for (int i = 0; i < WALK_MEMO_SIZE; i++) {
            Py_CLEAR(ts->walk_memo->e[i].stack);
        }
    }
}

void
rw_walk_memo_free(RW_ThreadState *ts)
{
    if (ts->walk_memo != NULL) {
        rw_walk_memo_clear(ts);
        for (int i = 0; i < WALK_MEMO_SIZE; i++) {
            PyMem_Free(ts->walk_memo->e[i].seen);
        }
        PyMem_Free(ts->walk_memo);
        ts->walk_memo = NULL;
    }
}

#if RW_PY311
/* The two entries for a walk from the current frame ``f``, by its instruction pointer and
 * its caller's (a function called from two places of one caller has entries of its own
 * for each).  Two: with one, two places of a loop's body whose pointers hashed alike took
 * the entry from each other at every turn (a third of the captures of a turn of
 * long_running walked again, in one layout of the heap and not in another). */
static inline rw_walk_memo *
memo_pair(struct rw_walk_memo_table *c, const _PyInterpreterFrame *f)
{
    const _PyInterpreterFrame *caller = f->previous;
    size_t h = ptr_hash(iframe_instr(f))
               ^ (ptr_hash(caller != NULL ? iframe_instr(caller) : NULL) * 0x9e3779b1u);
    return &c->e[(h ^ (h >> 7)) & (WALK_MEMO_SIZE - 2)];
}

/* Whether the walk ``m`` remembers, of ``depth`` at ``generation``, is the one from ``f``:
 * the same frames, incomplete ones too, then its end. */
static inline Py_ALWAYS_INLINE int   /* (twice in capture_current, on every capture) */
memo_holds(const rw_walk_memo *m, const _PyInterpreterFrame *f, Py_ssize_t depth,
           unsigned long generation)
{
    if (m->stack == NULL || m->depth != depth || m->generation != generation) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < m->nseen; i++) {
        if (f == NULL || !walked_is(&m->seen[i], f)) {
            return 0;
        }
        f = f->previous;
    }
    return !m->at_end || f == NULL;
}

/* Remember in ``pair`` (the entries for the walk's first frame ``first``, or NULL when the
 * thread keeps no walks yet) the walk of ``depth`` that examined ``seen`` and gave
 * ``stack``, in the entry not used last; on a memory error, it is not. */
static void
memo_store(RW_ThreadState *ts, rw_walk_memo *pair, _PyInterpreterFrame *first,
           Py_ssize_t depth, unsigned long generation, const rw_walked *seen,
           Py_ssize_t nseen, char at_end, PyObject *stack)
{
    if (ts == NULL || nseen <= 0) {
        return;
    }
    if (pair == NULL) {
        if (++ts->walks < WALK_MEMO_AFTER
                || (ts->walk_memo = PyMem_Calloc(1, sizeof(struct rw_walk_memo_table))) == NULL) {
            return;
        }
        pair = memo_pair(ts->walk_memo, first);
    }
    rw_walk_memo *m = &pair[(int)pair[0].next];
    pair[0].next = (char)(m == &pair[0]);
    if (m->cap < nseen) {
        rw_walked *grown = PyMem_Malloc((size_t)nseen * sizeof(rw_walked));
        if (grown == NULL) {
            return;
        }
        PyMem_Free(m->seen);
        m->seen = grown;
        m->cap = nseen;
    }
    memcpy(m->seen, seen, (size_t)nseen * sizeof(rw_walked));
    m->nseen = nseen;
    m->depth = depth;
    m->generation = generation;
    m->at_end = at_end;
    PyObject *old = m->stack;
    m->stack = Py_NewRef(stack);
    Py_XDECREF(old);   /* as in cache_store: after the entry is whole */
}

/* capture() of the current thread's frames, through the thread's memory of its walks.  The
 * first frame and its entry are found once: the frames under the capture stay as they are
 * while it runs (the table, once made, lives as long as the thread's state). */
static PyObject *
capture_current(Py_ssize_t depth, RW_ThreadState *ts)
{
    unsigned long generation = walk_generation_now();   /* read before the walk */
    _PyInterpreterFrame *first = current_iframe();
    rw_walk_memo *pair = ts != NULL && ts->walk_memo != NULL && first != NULL
                         ? memo_pair(ts->walk_memo, first) : NULL;
    if (pair != NULL) {   /* (written out: as a loop, 60 instructions more a turn) */
        if (memo_holds(&pair[0], first, depth, generation)) {
            pair[0].next = 1;   /* the other one goes next */
            return Py_NewRef(pair[0].stack);
        }
        if (memo_holds(&pair[1], first, depth, generation)) {
            pair[0].next = 0;
            return Py_NewRef(pair[1].stack);
        }
    }
    rw_frame_key key[SMALL_DEPTH];
    rw_walked seen[WALKED_MAX];
    Py_ssize_t nseen;
    char at_end;
    Py_ssize_t n = walk_current(depth, key, seen, &nseen, &at_end);
    PyObject *stack = rw_stack_interned(key, n, ts);
    if (stack != NULL && first != NULL) {
        memo_store(ts, pair, first, depth, generation, seen, nseen, at_end, stack);
    }
    return stack;
}
#endif

/* -- capture ----------------------------------------------------------------------------- */

PyObject *
rw_capture(int depth, PyObject *frame, RW_ThreadState *ts)
{
    Py_ssize_t limit = depth < 1 ? 1 : depth;
    if (ts == NULL) {
        ts = rw_tls_state;
    }
#if RW_PY311
    if (frame == NULL && limit <= SMALL_DEPTH) {
        return capture_current(limit, ts);
    }
#endif
    rw_frame_key small[SMALL_DEPTH];
    rw_frame_key *key = small;
    if (limit > SMALL_DEPTH) {
        key = PyMem_Malloc((size_t)limit * sizeof(rw_frame_key));
        if (key == NULL) {
            return PyErr_NoMemory();
        }
    }
#if RW_PY311
    Py_ssize_t n = frame == NULL ? walk_current(limit, key, NULL, NULL, NULL)
                                 : walk((PyFrameObject *)frame, limit, key);
#else
    if (frame == NULL) {
        frame = (PyObject *)PyEval_GetFrame();
    }
    Py_ssize_t n = walk((PyFrameObject *)frame, limit, key);
#endif
    PyObject *stack = rw_stack_interned(key, n, ts);
    if (key != small) {
        PyMem_Free(key);
    }
    return stack;
}

/* The innermost frame of the program (racewatch's own left out): 1 and *out (its code
 * borrowed from the frame), or 0 when there is none.  What capture(1) holds, uninterned.
 * On 3.11 and later the calling thread's state ``ts`` remembers the last two when each was
 * the current frame itself (a program's frame, complete): a thread that takes and releases
 * a lock in a loop asks from the same two places each time, and the walk's look at the
 * frame's module costs more than comparing four fields. */
Py_ssize_t
rw_innermost_frame(RW_ThreadState *ts, rw_frame_key *out)
{
#if RW_PY311
    if (ts != rw_tls_state) {
        ts = NULL;   /* another thread's: its memory is its own */
    }
    const _PyInterpreterFrame *f = current_iframe();
    unsigned long generation = walk_generation_now();   /* read before the walk */
    if (ts != NULL && f != NULL) {
        for (int i = 0; i < 2; i++) {
            const rw_innermost_memo *e = &ts->innermost[i];
            if (e->set && e->generation == generation && walked_is(&e->frame, f)) {
                *out = e->key;   /* (the frame holds the code it borrows) */
                return 1;
            }
        }
    }
    rw_walked seen[WALKED_MAX];
    Py_ssize_t nseen;
    char at_end;
    Py_ssize_t n = walk_current(1, out, seen, &nseen, &at_end);
    if (ts != NULL && n == 1 && nseen == 1) {   /* the current frame gave it */
        rw_innermost_memo *e = &ts->innermost[ts->innermost_next];
        ts->innermost_next ^= 1;
        e->frame = seen[0];   /* (complete: its globals are compared) */
        e->generation = generation;
        e->key = *out;
        e->set = 1;
    }
    return n;
#else
    (void)ts;
    return walk(PyEval_GetFrame(), 1, out);
#endif
}

PyObject *
rw_mod_capture(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "capture expected 1 or 2 arguments, got %zd", nargs);
        return NULL;
    }
    long depth = PyLong_AsLong(args[0]);
    if (depth == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (depth > 100000) {
        depth = 100000;
    }
    PyObject *frame = NULL;
    if (nargs == 2 && args[1] != Py_None) {
        if (!PyFrame_Check(args[1])) {
            PyErr_SetString(PyExc_TypeError, "capture: frame must be a frame or None");
            return NULL;
        }
        frame = args[1];
    }
    return rw_capture((int)depth, frame, NULL);
}
