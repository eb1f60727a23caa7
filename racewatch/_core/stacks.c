/* capture(): the interned call stack of the caller, as stacks.capture gives it.
 *
 * A stack is a tuple of (code, lasti) pairs, innermost frame first, at most ``depth``
 * frames, racewatch's own modules left out and ending at a boundary module (the runner
 * that execs the script, pytest's test callers).  The walk reads only the code object and
 * the instruction offset of each frame, never its line number (a line-table scan).
 *
 * Identical stacks are interned: the key is the array of (code address, lasti) pairs, and
 * the interned tuple keeps its code objects alive, so an address in the table cannot be
 * reused by another code object while the entry exists.  The table is cleared, as the
 * reference's is, past 200,000 stacks.  In front of it each thread keeps the last few
 * hundred interned stacks it captured, by key: a thread's sync events (a one-frame stack
 * each) and the accesses of its loops find theirs there without the table's lock, which
 * every thread would otherwise take on every capture.
 *
 * Consistency: the table is changed only after everything that can run Python code (the
 * allocation of a new tuple can start the garbage collector on 3.10 and 3.11) is done, and
 * is looked up again after it.  Free-threaded builds take a mutex around the table; the
 * per-thread caches need none (only their thread uses them, or the garbage collector with
 * every thread stopped).  The set of left-out modules is copied on write and
 * published with one pointer store: readers never lock it.
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
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
    return __atomic_load_n(&own_set, __ATOMIC_ACQUIRE);
#else
    return own_set;
#endif
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
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
    int n = __atomic_load_n(&n_end_codes, __ATOMIC_ACQUIRE);   /* its entries are whole */
#else
    int n = n_end_codes;
#endif
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
    }
    Py_RETURN_NONE;
}

/* -- walking the frames ------------------------------------------------------------------ */

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

/* walk() from the calling thread's innermost frame, read off the interpreter's frames:
 * the same (code, lasti) pairs as PyFrame_GetCode and PyFrame_GetLasti give for the frame
 * objects of PyEval_GetFrame and PyFrame_GetBack, which skip the same incomplete frames. */
static Py_ssize_t
walk_current(Py_ssize_t depth, rw_frame_key *out)
{
    const rw_own_set *own = own_set_load();
    PyThreadState *tstate = PyThreadState_Get();
#if RW_PY313
    _PyInterpreterFrame *f = tstate->current_frame;
#else
    _PyInterpreterFrame *f = tstate->cframe->current_frame;
#endif
    Py_ssize_t n = 0;
    PyObject *last_globals = NULL;   /* consecutive frames are mostly of one module */
    int kind = 0;
    for (; f != NULL; f = f->previous) {
        if (_PyFrame_IsIncomplete(f)) {
            continue;
        }
        PyCodeObject *code = iframe_code(f);
        if (is_end_code(code)) {
            break;
        }
        if (f->f_globals != last_globals) {
            last_globals = f->f_globals;
            kind = own_kind(own, last_globals);
        }
        if (kind == 0) {
            int lasti = _PyInterpreterFrame_LASTI(f);
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
    return n;
}
#endif

/* -- the intern table -------------------------------------------------------------------- */

#define INTERN_LIMIT 200000

typedef struct {
    uint64_t hash;
    Py_ssize_t n;
    rw_frame_key *key;
    PyObject *stack;
} rw_intern_entry;

static rw_intern_entry *itab = NULL;
static Py_ssize_t icap = 0, icount = 0;

#ifdef Py_GIL_DISABLED
static PyMutex intern_mutex = {0};
#define INTERN_LOCK() PyMutex_Lock(&intern_mutex)
#define INTERN_UNLOCK() PyMutex_Unlock(&intern_mutex)
#else
#define INTERN_LOCK()
#define INTERN_UNLOCK()
#endif

static uint64_t
key_hash(const rw_frame_key *key, Py_ssize_t n)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)n;
    for (Py_ssize_t i = 0; i < n; i++) {
        h = (h ^ (uint64_t)(uintptr_t)key[i].code) * 1099511628211ULL;
        h = (h ^ (uint64_t)(uint32_t)key[i].lasti) * 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static inline int
key_equal(const rw_frame_key *a, const rw_frame_key *b, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if (a[i].code != b[i].code || a[i].lasti != b[i].lasti) {
            return 0;
        }
    }
    return 1;
}

/* A borrowed reference to the interned stack, or NULL. */
static PyObject *
intern_find(const rw_frame_key *key, Py_ssize_t n, uint64_t hash)
{
    if (icap == 0) {
        return NULL;
    }
    size_t mask = (size_t)icap - 1;
    size_t i = (size_t)hash & mask;
    while (itab[i].stack != NULL) {
        rw_intern_entry *e = &itab[i];
        if (e->hash == hash && e->n == n && key_equal(e->key, key, n)) {
            return e->stack;
        }
        i = (i + 1) & mask;
    }
    return NULL;
}

static void
intern_place(rw_intern_entry *table, Py_ssize_t cap, rw_intern_entry entry)
{
    size_t mask = (size_t)cap - 1;
    size_t i = (size_t)entry.hash & mask;
    while (table[i].stack != NULL) {
        i = (i + 1) & mask;
    }
    table[i] = entry;
}

/* Detach every entry (under the lock), to be released by intern_release (outside it):
 * releasing a stack can free code objects, whose weakref callbacks run Python code. */
static rw_intern_entry *
intern_detach(Py_ssize_t *pcap)
{
    rw_intern_entry *old = itab;
    *pcap = icap;
    itab = NULL;
    icap = icount = 0;
    return old;
}

static void
intern_release(rw_intern_entry *old, Py_ssize_t cap)
{
    for (Py_ssize_t i = 0; i < cap; i++) {
        if (old[i].stack != NULL) {
            PyMem_Free(old[i].key);
            Py_DECREF(old[i].stack);
        }
    }
    PyMem_Free(old);
}

/* Insert ``stack`` (a new reference, passed to the table) for ``key``.  No Python code
 * runs here.  Returns -1 on a memory error (the table is left as it was). */
static int
intern_insert(const rw_frame_key *key, Py_ssize_t n, uint64_t hash, PyObject *stack)
{
    if ((icount + 1) * 3 >= icap * 2) {
        Py_ssize_t cap = icap ? icap * 2 : 1024;
        rw_intern_entry *table = PyMem_Calloc((size_t)cap, sizeof(rw_intern_entry));
        if (table == NULL) {
            return -1;
        }
        for (Py_ssize_t i = 0; i < icap; i++) {
            if (itab[i].stack != NULL) {
                intern_place(table, cap, itab[i]);
            }
        }
        PyMem_Free(itab);
        itab = table;
        icap = cap;
    }
    rw_frame_key *copy = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(rw_frame_key));
    if (copy == NULL) {
        return -1;
    }
    if (n) {
        memcpy(copy, key, (size_t)n * sizeof(rw_frame_key));
    }
    rw_intern_entry entry = {hash, n, copy, stack};
    intern_place(itab, icap, entry);
    icount++;
    return 0;
}

static PyObject *
make_stack(const rw_frame_key *key, Py_ssize_t n)
{
    PyObject *stack = PyTuple_New(n);
    if (stack == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *lasti = PyLong_FromLong(key[i].lasti);
        if (lasti == NULL) {
            Py_DECREF(stack);
            return NULL;
        }
        PyObject *pair = PyTuple_Pack(2, (PyObject *)key[i].code, lasti);
        Py_DECREF(lasti);
        if (pair == NULL) {
            Py_DECREF(stack);
            return NULL;
        }
        PyTuple_SET_ITEM(stack, i, pair);
    }
    return stack;
}

/* A new reference to the interned stack for ``key`` from the table (made if missing). */
static PyObject *
interned_in_table(const rw_frame_key *key, Py_ssize_t n, uint64_t hash)
{
    INTERN_LOCK();
    PyObject *stack = intern_find(key, n, hash);
    Py_XINCREF(stack);
    INTERN_UNLOCK();
    if (stack != NULL) {
        return stack;
    }
    /* A miss is rare (once per distinct stack): build the tuple, then look again, since
     * the allocation may have let other code intern the same stack meanwhile. */
    PyObject *made = make_stack(key, n);
    if (made == NULL) {
        return NULL;
    }
    rw_intern_entry *old = NULL;
    Py_ssize_t old_cap = 0;
    INTERN_LOCK();
    stack = intern_find(key, n, hash);
    if (stack != NULL) {
        Py_INCREF(stack);
    }
    else {
        if (icount >= INTERN_LIMIT) {
            /* Records keep their stacks alive on their own; the table only shares them. */
            old = intern_detach(&old_cap);
        }
        stack = Py_NewRef(made);
        if (intern_insert(key, n, hash, made) < 0) {
            Py_DECREF(made);   /* not interned: this one is used alone */
        }
        made = NULL;
    }
    INTERN_UNLOCK();
    Py_XDECREF(made);
    if (old != NULL) {
        intern_release(old, old_cap);
    }
    return stack;
}

/* -- each thread's cache of interned stacks ------------------------------------------------- */

#define STACK_CACHE_SIZE 256   /* entries, direct-mapped by the key's hash: a power of two */

typedef struct {
    uint64_t hash;
    Py_ssize_t n;
    rw_frame_key *key;       /* owned */
    PyObject *stack;         /* a strong reference, or NULL for an empty entry */
} rw_stack_cache_entry;

struct rw_stack_cache {
    rw_stack_cache_entry e[STACK_CACHE_SIZE];
};

/* A new reference to the stack the thread cached for ``key``, or NULL (no error). */
static PyObject *
cache_find(RW_ThreadState *ts, const rw_frame_key *key, Py_ssize_t n, uint64_t hash)
{
    if (ts == NULL || ts->stack_cache == NULL) {
        return NULL;
    }
    rw_stack_cache_entry *e = &ts->stack_cache->e[hash & (STACK_CACHE_SIZE - 1)];
    if (e->stack != NULL && e->hash == hash && e->n == n && key_equal(e->key, key, n)) {
        return Py_NewRef(e->stack);
    }
    return NULL;
}

/* Remember ``stack`` for ``key`` in the thread's cache; on a memory error, it is not. */
static void
cache_store(RW_ThreadState *ts, const rw_frame_key *key, Py_ssize_t n, uint64_t hash,
            PyObject *stack)
{
    if (ts == NULL) {
        return;
    }
    if (ts->stack_cache == NULL
            && (ts->stack_cache = PyMem_Calloc(1, sizeof(struct rw_stack_cache))) == NULL) {
        return;
    }
    rw_stack_cache_entry *e = &ts->stack_cache->e[hash & (STACK_CACHE_SIZE - 1)];
    rw_frame_key *copy = e->key;
    if (e->stack == NULL || e->n < n) {
        copy = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(rw_frame_key));
        if (copy == NULL) {
            return;
        }
        PyMem_Free(e->key);
    }
    if (n) {
        memcpy(copy, key, (size_t)n * sizeof(rw_frame_key));
    }
    PyObject *old = e->stack;
    e->key = copy;
    e->hash = hash;
    e->n = n;
    e->stack = Py_NewRef(stack);
    /* Once the table let go of it too, this may free code objects (their weakref callbacks
     * run Python code): as making a tuple may.  A capture is made before any update. */
    Py_XDECREF(old);
}

int
rw_stack_cache_traverse(RW_ThreadState *ts, visitproc visit, void *arg)
{
    if (ts->stack_cache != NULL) {
        for (int i = 0; i < STACK_CACHE_SIZE; i++) {
            Py_VISIT(ts->stack_cache->e[i].stack);
        }
    }
    return 0;
}

void
rw_stack_cache_clear(RW_ThreadState *ts)
{
    if (ts->stack_cache != NULL) {
        for (int i = 0; i < STACK_CACHE_SIZE; i++) {
            Py_CLEAR(ts->stack_cache->e[i].stack);
        }
    }
}

void
rw_stack_cache_free(RW_ThreadState *ts)
{
    if (ts->stack_cache != NULL) {
        rw_stack_cache_clear(ts);
        for (int i = 0; i < STACK_CACHE_SIZE; i++) {
            PyMem_Free(ts->stack_cache->e[i].key);
        }
        PyMem_Free(ts->stack_cache);
        ts->stack_cache = NULL;
    }
}

/* A new reference to the interned stack for ``key``: from the calling thread's cache, else
 * from the table (and then cached). */
static PyObject *
interned(const rw_frame_key *key, Py_ssize_t n, RW_ThreadState *ts)
{
    uint64_t hash = key_hash(key, n);
    PyObject *found = cache_find(ts, key, n, hash);
    if (found != NULL) {
        return found;
    }
    found = interned_in_table(key, n, hash);
    if (found != NULL) {
        cache_store(ts, key, n, hash, found);
    }
    return found;
}

void
rw_stacks_after_fork(void)
{
#ifdef Py_GIL_DISABLED
    /* Another thread may have held the mutex at the fork: in the child, it never lets go. */
    memset(&intern_mutex, 0, sizeof(intern_mutex));
#endif
}

/* -- capture ----------------------------------------------------------------------------- */

#define SMALL_DEPTH 64

PyObject *
rw_capture(int depth, PyObject *frame, RW_ThreadState *ts)
{
    Py_ssize_t limit = depth < 1 ? 1 : depth;
    rw_frame_key small[SMALL_DEPTH];
    rw_frame_key *key = small;
    if (limit > SMALL_DEPTH) {
        key = PyMem_Malloc((size_t)limit * sizeof(rw_frame_key));
        if (key == NULL) {
            return PyErr_NoMemory();
        }
    }
#if RW_PY311
    Py_ssize_t n = frame == NULL ? walk_current(limit, key)
                                 : walk((PyFrameObject *)frame, limit, key);
#else
    if (frame == NULL) {
        frame = (PyObject *)PyEval_GetFrame();
    }
    Py_ssize_t n = walk((PyFrameObject *)frame, limit, key);
#endif
    PyObject *stack = interned(key, n, ts != NULL ? ts : rw_tls_state);
    if (key != small) {
        PyMem_Free(key);
    }
    return stack;
}

/* The innermost frame of the program (racewatch's own left out): 1 and *out (its code
 * borrowed from the frame), or 0 when there is none.  What capture(1) holds, uninterned. */
Py_ssize_t
rw_innermost_frame(rw_frame_key *out)
{
#if RW_PY311
    return walk_current(1, out);
#else
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
