/* racewatch._core: the compiled core of the detector (shared declarations).
 *
 * The pure-Python modules in racewatch/runtime/ are the reference; every type and rule
 * here mirrors one there, under the same name:
 *
 *   module.c       the module, Settings (settings.py), the REGISTRY.solo slot
 *   threadstate.c  ThreadState (threads.py) and the C thread-local of the current state
 *   stacks.c       capture(): interned stacks of (code, lasti) pairs (stacks.py)
 *   access.c, location.c, shadow.c, rules.c, rules_keys.c, rules_module.c, sweep.c,
 *   absent.c, conflict.c
 *                  the engine: Access, Loc, KeysLoc, Shadow, Conflict and the FastTrack
 *                  rules (shadow.py); engine.h holds what those files share
 *   tracked_base.c what every tracked container type shares (tracked.h)
 *   dict_*.c       the tracked dict and defaultdict types, track(), public_type()
 *                  (tracked.py); dict.h holds what those files share
 *   list.c, list_methods.c
 *                  the tracked list (tracked_seq.py); list.h holds what they share
 *   set.c, set_algebra.c
 *                  the tracked set (tracked_seq.py); set.h holds what they share
 *   object.c, object_hooks.c, object_shadow.c, object_values.c
 *                  the attributes of instances of instrumented classes (objects.py):
 *                  checking an access, the hooked classes, the objects' shadows, an
 *                  instance's value read where the interpreter keeps it;
 *                  object.h holds what they share
 *   globals.c      module globals rebound by the module's functions (module_globals.py)
 *   sync.c         SyncVar and the edge operations (sync.py)
 *   events.c       EventRing: a thread's recent sync events (threads.py, ThreadInfo.events)
 *   locks.c        the tracked locks' methods (patches/locks.py)
 *   context.c      the questions every patch asks first (patches/context.py)
 *   sink.c         Sink: hands each conflict to RaceTable.on_conflict (races.py) without
 *                  ever raising into the program's access
 *
 * Headers core.h includes: dict_kh.h (dict operations with a key's hash computed once),
 * threadstate.h (ThreadState and the thread-local of the current one), and at the end
 * enter.h, the hot path every access takes first (entering it).
 */

#ifndef RACEWATCH_CORE_H
#define RACEWATCH_CORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030A0000
#error "racewatch._core needs Python 3.10 or newer"
#endif

/* The core's own functions and variables are the module's alone (PyInit__core, declared
 * with PyMODINIT_FUNC, is the one it exports): a call from one of its files to another's
 * is then a direct call, and a global is read without a detour through the GOT. */
#if defined(__GNUC__) && !defined(_WIN32)
#pragma GCC visibility push(hidden)
#endif

/* A function kept out of its callers: the rare way of a hot one, which would otherwise
 * make the hot one save and restore every register it uses (Py_NO_INLINE is 3.11+). */
#if defined(__GNUC__)
#define RW_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define RW_NOINLINE __declspec(noinline)
#else
#define RW_NOINLINE
#endif

#define RW_PY311 (PY_VERSION_HEX >= 0x030B0000)
#define RW_PY312 (PY_VERSION_HEX >= 0x030C0000)
#define RW_PY313 (PY_VERSION_HEX >= 0x030D0000)

/* Free-threaded builds: a critical section on an object is its per-object mutex.  On GIL
 * builds the macros exist from 3.13 on as plain blocks; before, they are defined so. */
#ifndef Py_BEGIN_CRITICAL_SECTION
#define Py_BEGIN_CRITICAL_SECTION(op) {
#define Py_END_CRITICAL_SECTION() }
#endif

/* The one thread-local of the core (threadstate.c), read on every access.  On ELF
 * platforms it uses the initial-exec model: a load relative to the thread pointer, where
 * the default model of a shared object calls __tls_get_addr on every read (a tenth of the
 * instructions racewatch adds to an attribute's read).  The C library keeps room for a
 * module loaded later to have a little such storage; the core asks for one pointer. */
#if defined(_MSC_VER)
#define RW_THREAD_LOCAL __declspec(thread)
#elif defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))
#define RW_THREAD_LOCAL __thread __attribute__((tls_model("initial-exec")))
#else
#define RW_THREAD_LOCAL __thread
#endif

/* Fields that one thread writes while others may read them, on free-threaded builds:
 * relaxed atomics, which compile to the plain loads and stores of a GIL build on x86-64 and
 * arm64, and tell ThreadSanitizer (tools/tsan-check) what they are. */
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
#define RW_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define RW_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define RW_ADD(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))
#define RW_LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define RW_ADD_RELEASE(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELEASE))
#else
#define RW_LOAD(p) (*(p))
#define RW_STORE(p, v) ((void)(*(p) = (v)))
#define RW_ADD(p, v) ((void)(*(p) += (v)))
#define RW_LOAD_ACQUIRE(p) (*(p))
#define RW_ADD_RELEASE(p, v) ((void)(*(p) += (v)))
#endif

/* A record made for a table that other threads read without its lock (a location's Loc or
 * Access in a shadow's ``locs``), told so while it is still its thread's alone.  A
 * free-threaded 3.13 dict read without the lock takes its reference to the value it finds
 * in the value's shared count, and gives up, to read again under the dict's lock, when
 * that count is zero with no flag: an object that no other thread ever held, such as a
 * record made by the thread that stored it.  The other threads' lookups of its location
 * then took that table's lock in turn.  The flag CPython sets on an object that may be
 * found that way (_Py_REF_MAYBE_WEAKREF, as _PyObject_SetMaybeWeakref does) lets them take
 * their reference without it; the object is then freed when both counts reach zero, as
 * any object another thread referred to.  Not from 3.14, whose reads differ. */
static inline void
rw_readable_unlocked(PyObject *op)
{
#if defined(Py_GIL_DISABLED) && PY_VERSION_HEX < 0x030E0000
    op->ob_ref_shared = 0x1;   /* _Py_REF_MAYBE_WEAKREF; new, so no other thread sees it */
#else
    (void)op;
#endif
}

/* Method tables hold every calling convention as a PyCFunction. */
#define RW_CFUNC(f) ((PyCFunction)(void (*)(void))(f))

typedef PyObject *(*rw_fastfunc)(PyObject *, PyObject *const *, Py_ssize_t);
typedef PyObject *(*rw_fastkwfunc)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *);

#if RW_PY313
#define RW_DictGetItemRef PyDict_GetItemRef
#else
static inline int
RW_DictGetItemRef(PyObject *d, PyObject *key, PyObject **out)
{
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v != NULL) {
        *out = Py_NewRef(v);
        return 1;
    }
    *out = NULL;
    return PyErr_Occurred() ? -1 : 0;
}
#endif

/* ``d.pop(key)`` into *out (a new reference): 1, or 0 when absent (*out NULL), or -1.  Not
 * for a dict that can hold None: before 3.13 None is the default that says absent. */
#if RW_PY313
#define RW_DictPop PyDict_Pop
#else
static inline int
RW_DictPop(PyObject *d, PyObject *key, PyObject **out)
{
    PyObject *v = _PyDict_Pop(d, key, Py_None);
    if (v == NULL || v == Py_None) {
        Py_XDECREF(v);
        *out = NULL;
        return v == NULL ? -1 : 0;
    }
    *out = v;
    return 1;
}
#endif

#include "dict_kh.h"

/* The exception being raised, as one object (3.12's API, for every version). */
static inline PyObject *
rw_err_fetch(void)
{
#if RW_PY312
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

static inline void
rw_err_restore(PyObject *exc)
{
#if RW_PY312
    PyErr_SetRaisedException(exc);
#else
    if (exc == NULL) {
        return;
    }
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

/* time.monotonic_ns(): the same clock, so that an access's time and the sync events of
 * the timeline (taken in Python) compare. */
static inline long long
rw_monotonic_ns(void)
{
#if RW_PY313
    PyTime_t t;
    if (PyTime_Monotonic(&t) < 0) {
        PyErr_Clear();
        return 0;
    }
    return (long long)t;
#else
    return (long long)_PyTime_GetMonotonicClock();
#endif
}

/* -- settings.py ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    int enabled;             /* read with RW_LOAD: stop() may run while threads do */
    int tracking;            /* likewise: the memory budget may cut it from any thread */
    int stack_depth;
    int report_key_order;    /* inserts and deletes conflict with each other too */
    int watch;               /* what is tracked: RW_WATCH_* bits (the ``watch`` option) */
    PyObject *sink;          /* callable(Conflict) or None */
    PyObject *budget;        /* a MemoryBudget or None */
    PyObject *tracking_cut;
    long long started_ns;
    long long generation;
} RW_Settings;

/* settings.WATCH_BITS: the order of config.WATCH_KINDS */
#define RW_WATCH_DICT 1
#define RW_WATCH_ATTR 2
#define RW_WATCH_GLOBAL 4
#define RW_WATCH_LIST 8
#define RW_WATCH_SET 16
#define RW_WATCH_ALL 31

extern RW_Settings *rw_settings;
extern PyTypeObject RW_SettingsType;

/* SETTINGS.dicts_tracked, .lists_tracked, .sets_tracked, .forgotten_keys and
 * .forgotten_lookups: counters every thread adds to (RW_ADD), on a
 * cache line of their own, away from the switches every access reads. */
typedef struct {
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
    _Alignas(64)
#endif
    long long dicts_tracked;
    long long lists_tracked;
    long long sets_tracked;
    long long forgotten_keys;
    long long forgotten_lookups;
} rw_counters_t;

extern rw_counters_t rw_counters;

static inline int
rw_enabled(void)
{
    return RW_LOAD(&rw_settings->enabled);
}

static inline int
rw_tracking(void)
{
    return RW_LOAD(&rw_settings->tracking);
}

/* A memory budget is set (SETTINGS.budget is not None). */
static inline int
rw_has_budget(void)
{
    PyObject *budget = RW_LOAD(&rw_settings->budget);
    return budget != NULL && budget != Py_None;
}

/* -- stacks.py -------------------------------------------------------------------------- */

typedef struct {
    void *code;     /* a code object, compared by address (the interned stack keeps it) */
    long lasti;     /* the Python-level f_lasti: a byte offset */
} rw_frame_key;

#include "threadstate.h"

/* -- shadow.py (the engine) ------------------------------------------------------------- */

typedef struct RW_Access {
    PyObject_HEAD
    Py_ssize_t slot;
    long long clock;
    long long time;          /* time.monotonic_ns() of the first access it stands for */
    PyObject *thread;        /* ThreadInfo */
    PyObject *stack;
    PyObject *op;            /* an interned str */
    PyObject *locks;
    char write;
} RW_Access;

/* FastTrack's adaptive read set: nothing, one read (a), two reads of two slots (a, b,
 * in the order they came) or more (an ordered array), at most one read per slot. */
typedef struct {
    Py_ssize_t n, cap;
    RW_Access *items[1];
} rw_readmap;

typedef struct {
    RW_Access *a;
    RW_Access *b;
    rw_readmap *more;
} RW_ReadSet;

/* A location's state; never changed once stored in a shadow's ``locs`` (a change stores a
 * new one), so that identical ones can be shared and a reader needs no lock. */
typedef struct RW_Loc {
    PyObject_HEAD
    RW_Access *w;
    RW_ReadSet r;
} RW_Loc;

typedef struct {
    RW_Loc base;
    PyObject *wkey;          /* the key the last write of the set of keys touched, or None */
    PyObject *u;             /* its updates since: {slot: (Access, key)} */
} RW_KeysLoc;

/* Per thread slot, one access and the key it touched (in first-come order). */
typedef struct {
    Py_ssize_t slot;
    RW_Access *rec;
    PyObject *key;
} rw_slot_entry;

typedef struct {
    rw_slot_entry *items;
    Py_ssize_t n, cap;
} rw_slot_map;

/* What a shadow watches: the kinds of tracked containers (Shadow.kind names them). */
enum {
    RW_KIND_DICT, RW_KIND_DEFAULTDICT, RW_KIND_LIST, RW_KIND_SET, RW_KIND_OBJECT,
    RW_KIND_CLASS, RW_KIND_MODULE, RW_KIND_COUNT
};

/* The attributes of one object (or class) that one thread accessed in one epoch: the
 * object's own memory of them (objects.py, ``Shadow.epoch_names``), for the objects a
 * thread's attr_seen table is too small for.  Kept in the object's ObjRef (object.h),
 * which a read finds first, rather than behind its shadow: two loads fewer on every
 * attribute read made already, each from memory of its own (object_graph's particles are
 * each read by a step, then not again until the next). */
#define RW_EPOCH_NAMES 8   /* at most 8: ``written`` has a bit for each */

/* How many times every object was forgotten (stop, fork; object_shadow.c): an attribute a
 * thread remembers seeing before that is not seen in the new history.  Read with RW_LOAD. */
extern long long rw_objects_forgotten;
/* How many times every object's memory of an epoch was made out of date at once: each time
 * every object was forgotten, and each forget() of an object's or a class's shadow by the
 * Python API (shadow.c), which objects.py answers by dropping that shadow's
 * ``epoch_names`` (the memory is the ObjRef's, which the shadow cannot reach: every
 * object's goes, and an access checked again in its epoch changes nothing).  Read with
 * RW_LOAD. */
extern long long rw_epoch_memories_era;

typedef struct {
    Py_ssize_t slot;         /* the epoch: (slot, clock), unique in a run (threads.py) */
    long long clock;
    long long era;           /* rw_epoch_memories_era when made */
    long long generation;    /* SETTINGS.generation when made: the shadow was fresh then */
    PyObject *names[RW_EPOCH_NAMES];   /* strong references */
    unsigned char n;
    unsigned char written;   /* bit i: names[i] was written */
} rw_epoch_names;

typedef struct {
    PyObject_HEAD
    PyObject *kind;          /* "dict", "defaultdict", "list", "set", "object", "class", "module" */
    PyObject *name;          /* an object's class name, a class's, a module's; else None */
    PyObject *created_at;    /* a stack */
    PyObject *locs;          /* dict: key -> Access (written only) or Loc */
#ifdef Py_GIL_DISABLED
    PyObject *retired_locs;  /* NULL, or a list of the tables prefill replaced */
    struct rw_absent *absent;   /* NULL, or each thread's records of absent keys (absent.c) */
#endif
    RW_Access *keys_w;       /* the keys location (``keys`` shows it as a KeysLoc) */
    RW_ReadSet keys_r;
    PyObject *keys_wkey;
    rw_slot_map keys_u;      /* the keys location's updates since its last write */
    RW_ReadSet allr;
    rw_slot_map wsum;        /* per slot: the latest write to any key */
    Py_ssize_t sweep_at;
    long long serial;
    long long generation;
    char kind_id;            /* RW_KIND_* */
    char prefilled;          /* locs holds every key of the dict (see prefill) */
    struct rw_positions *positions;    /* lists, GIL builds: list.c's memory of its
                                        * positions' records, or NULL */
    /* Counts the changes to ``locs`` (and its replacements): a lookup made before
     * Python code could run, or before the shadow's lock was taken, is still good when it
     * has not moved (rules.c, RW_LOCS_CHANGED). */
    unsigned long long locs_version;
} RW_Shadow;

#ifndef Py_GIL_DISABLED
/* Versions come from one counter (shadow.c): a (shadow, version) pair names one state of one
 * table for the whole run, even for a shadow made where a freed one was. */
extern unsigned long long rw_locs_clock;
#define RW_LOCS_CHANGED(sh) ((sh)->locs_version = ++rw_locs_clock)
#else
/* Free-threaded builds: each shadow counts its own (one counter for all would be one cache
 * line that every thread's every change writes), with the shadow's lock held, before and
 * after each change that can replace or remove a key's location (a seqlock: a lookup made
 * without the lock, after reading the count, found what is there still if the count has
 * not moved).  The claims of keys that have no location (loc_claim, without the lock) do
 * not move it: a lookup that found nothing looks again. */
#define RW_LOCS_CHANGED(sh) ((void)__atomic_add_fetch(&(sh)->locs_version, 1, __ATOMIC_SEQ_CST))
#endif

/* A container's shadow stays out of the garbage collector's lists (attach, shadow.c) until
 * it is about to hold ``key`` and ``key`` is an object the collector tracks: only then can
 * the shadow be part of a cycle (the container, its shadow, a key that refers to the
 * container), and the collector must see the shadow and the container (a dict holding only
 * atomic values is not tracked) to find it.  A program's containers mostly have str and
 * int keys: their shadows then cost every collection nothing, and its dicts stay as
 * untracked as without racewatch.  GIL builds only: free-threaded ones track both from the
 * attach on (a thread changing another's GC bits there needs the world stopped). */
static inline void
rw_shadow_keeps(RW_Shadow *sh, PyObject *d, PyObject *key)
{
#ifndef Py_GIL_DISABLED
    if (key != NULL && PyObject_IS_GC(key) && PyObject_GC_IsTracked(key)
            && !PyObject_GC_IsTracked((PyObject *)sh)) {
        PyObject_GC_Track(sh);
        if (d != NULL && !PyObject_GC_IsTracked(d)) {
            PyObject_GC_Track(d);
        }
    }
#else
    (void)sh;
    (void)d;
    (void)key;
#endif
}

typedef struct {
    PyObject_HEAD
    PyObject *shadow;
    PyObject *key;
    PyObject *previous;
    PyObject *current;
    PyObject *previous_key;
    PyObject *current_key;
    PyObject *current_prior; /* the current thread's own read in its epoch, or None */
    char on_keys;
} RW_Conflict;

extern PyTypeObject RW_AccessType, RW_LocType, RW_KeysLocType, RW_ShadowType, RW_ConflictType;

/* The operations, as interned strings (an Access record compares them by identity). */
enum {
    RW_OP_GETITEM, RW_OP_GET, RW_OP_CONTAINS, RW_OP_SETITEM, RW_OP_DELITEM,
    RW_OP_SETDEFAULT, RW_OP_POP, RW_OP_POPITEM, RW_OP_UPDATE, RW_OP_IOR, RW_OP_CLEAR,
    RW_OP_LEN, RW_OP_ITER, RW_OP_REVERSED, RW_OP_KEYS, RW_OP_VALUES, RW_OP_ITEMS,
    RW_OP_EQ, RW_OP_NE, RW_OP_REDUCE, RW_OP_DEEPCOPY, RW_OP_COPY, RW_OP_OR, RW_OP_MISSING,
    RW_OP_REPR,
    /* lists */
    RW_OP_SLICE, RW_OP_SETSLICE, RW_OP_DELSLICE, RW_OP_APPEND, RW_OP_EXTEND, RW_OP_IADD,
    RW_OP_INSERT, RW_OP_REMOVE, RW_OP_INDEX, RW_OP_COUNT_OF, RW_OP_COMPARE, RW_OP_ADD,
    RW_OP_MUL, RW_OP_IMUL, RW_OP_SORT, RW_OP_REVERSE,
    /* sets */
    RW_OP_DISCARD, RW_OP_DIFFERENCE_UPDATE, RW_OP_INTERSECTION_UPDATE,
    RW_OP_SYMMETRIC_DIFFERENCE_UPDATE, RW_OP_ISUB, RW_OP_IAND, RW_OP_IXOR, RW_OP_UNION,
    RW_OP_INTERSECTION, RW_OP_DIFFERENCE, RW_OP_SYMMETRIC_DIFFERENCE, RW_OP_ISSUBSET,
    RW_OP_ISSUPERSET, RW_OP_ISDISJOINT, RW_OP_AND, RW_OP_SUB, RW_OP_XOR,
    RW_OP_COUNT
};
extern PyObject *rw_ops[RW_OP_COUNT];
#define RW_OP(name) (rw_ops[RW_OP_##name])

#define RW_BUDGET_MASK 4095   /* budget.CHECK_EVERY - 1 */

int rw_shadow_ready(PyObject *module);
RW_Shadow *rw_shadow_new(PyObject *kind, PyObject *created_at, PyObject *name);
int rw_shadow_fresh(RW_Shadow *sh);
extern PyObject *rw_kind_names[RW_KIND_COUNT];
int rw_budget_check(RW_ThreadState *ts);
int rw_enter_shadow_slow(PyObject *d, PyObject **slot, RW_ThreadState *ts,
                         RW_ThreadState **pts, RW_Shadow **psh);
PyObject *rw_shadow_of(PyObject *d);

/* The rules, for an access that rw_enter said to check (ts and sh from it). */
int rw_on_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, PyObject *op);
int rw_on_write(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, PyObject *op,
                int keys_change);
/* The same with the key's hash, computed once by the operation (-1: not yet). */
int rw_on_read_kh(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
                  PyObject *op);
int rw_on_write_kh(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
                   PyObject *op, int keys_change);
/* A dict's read of a key (hashed), and its write of a key that inserts it when absent, as
 * rw_record_read and rw_dict_key_write (tracked.h, dict.h) record them: rw_enter's way
 * (tracked_base.c, dict_base.c); on GIL builds, first the look for an access the thread
 * made already in its epoch (rules.c), which takes any other on to the rule itself. */
int rw_record_read_entered(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op);
int rw_dict_key_write_entered(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op);
#ifndef Py_GIL_DISABLED
int rw_first_look_read(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op);
int rw_first_look_write(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op);
#endif
int rw_on_keys_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *op);
int rw_on_read_all(RW_ThreadState *ts, RW_Shadow *sh, PyObject *op);
int rw_on_clear(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *op);

PyObject *rw_mod_on_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *rw_mod_on_write(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *rw_mod_on_keys_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *rw_mod_on_read_all(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *rw_mod_on_clear(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *rw_mod_shadow_of(PyObject *self, PyObject *d);

/* -- stacks.c --------------------------------------------------------------------------- */

PyObject *rw_capture(int depth, PyObject *frame, RW_ThreadState *ts);
Py_ssize_t rw_innermost_frame(RW_ThreadState *ts, rw_frame_key *out);
PyObject *rw_mod_capture(PyObject *self, PyObject *const *args, Py_ssize_t nargs);
PyObject *rw_mod_leave_out_frames_of(PyObject *self, PyObject *globals);
PyObject *rw_mod_end_stacks_at_frames_of(PyObject *self, PyObject *globals);
PyObject *rw_mod_end_stacks_at_code(PyObject *self, PyObject *code);
void rw_stacks_after_fork(void);
int rw_stack_cache_traverse(RW_ThreadState *ts, visitproc visit, void *arg);
void rw_stack_cache_clear(RW_ThreadState *ts);
void rw_stack_cache_free(RW_ThreadState *ts);
PyObject *rw_stack_interned(const rw_frame_key *key, Py_ssize_t n, RW_ThreadState *ts);
int rw_walk_memo_traverse(RW_ThreadState *ts, visitproc visit, void *arg);
void rw_walk_memo_clear(RW_ThreadState *ts);
void rw_walk_memo_free(RW_ThreadState *ts);

/* -- tracked.py (dict_*.c) -------------------------------------------------------------- */

typedef struct {
    PyDictObject dict;
    PyObject *shadow;        /* the creation stack, then the Shadow (or None) */
} RW_TrackedDict;

typedef struct {
    PyDictObject dict;
    PyObject *default_factory;
    PyObject *shadow;
} RW_TrackedDefaultDict;

/* tracked_seq.py (list.c, set.c) */
typedef struct {
    PyListObject list;
    PyObject *shadow;        /* the creation stack, then the Shadow (or None) */
} RW_TrackedList;

typedef struct {
    PySetObject set;
    PyObject *shadow;
} RW_TrackedSet;

extern PyTypeObject RW_TrackedDictType;
extern PyTypeObject *rw_tracked_defaultdict;   /* static up to 3.11, a heap type from 3.12 */
extern PyTypeObject *rw_defaultdict;           /* collections.defaultdict */
extern PyTypeObject RW_TrackedListType;
extern PyTypeObject RW_TrackedSetType;

PyObject **rw_shadow_slot_slow(PyObject *d);

/* The slot of a tracked container that holds its creation stack, then its shadow; NULL
 * for an object that is not a tracked container. */
static inline PyObject **
rw_shadow_slot(PyObject *d)
{
    PyTypeObject *t = Py_TYPE(d);
    if (t == &RW_TrackedDictType) {
        return &((RW_TrackedDict *)d)->shadow;
    }
    if (t == &RW_TrackedListType) {
        return &((RW_TrackedList *)d)->shadow;
    }
    if (t == rw_tracked_defaultdict) {
        return &((RW_TrackedDefaultDict *)d)->shadow;
    }
    if (t == &RW_TrackedSetType) {
        return &((RW_TrackedSet *)d)->shadow;
    }
    return rw_shadow_slot_slow(d);
}

int rw_tracked_ready(PyObject *module);

/* -- objects.py (object*.c) ------------------------------------------------------------- */

int rw_object_ready(PyObject *module);
void rw_objects_after_fork(void);

/* -- module_globals.py (globals.c) ------------------------------------------------------ */

int rw_globals_ready(PyObject *module);
int rw_instrumented(PyObject *globals);
extern long long rw_modules_generation;

/* rw_instrumented, asked on every attribute access: the calling thread (``ts``, or NULL)
 * remembers the answer for the globals it asked about last, as long as no module was added
 * to the table or the table emptied (both move the generation, after the change: loaded
 * first, it says the answer is at least as new as itself). */
static inline int
rw_instrumented_by(RW_ThreadState *ts, PyObject *globals)
{
    if (ts == NULL) {
        return rw_instrumented(globals);
    }
    long long generation = RW_LOAD_ACQUIRE(&rw_modules_generation);
    if (globals != ts->instr_globals || generation != ts->instr_generation) {
        ts->instr_answer = rw_instrumented(globals);
        ts->instr_globals = globals;
        ts->instr_generation = generation;
    }
    return ts->instr_answer;
}
void rw_globals_after_fork(void);

/* -- sync.py (sync.c) ------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *state;    /* None, or (clock: list[int], releaser: ThreadState or None) */
    PyObject *label;    /* "Lock#3", "Queue#1"... */
} RW_SyncVar;

extern PyTypeObject RW_SyncVarType;

/* The edge operations, with sync.py's meaning (kind: the event's name in the timeline). */
int rw_release_store(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind);
int rw_acquire(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind);
/* rw_acquire for a lock (Lock, RLock: held by one thread at a time), which may let the
 * thread go on in the epoch it published the lock in (sync.c). */
int rw_acquire_lock(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind);
/* Start the epoch a lock's release ended, if it has not started yet: 0, or -1. */
int rw_settle_pending(RW_ThreadState *ts);
int rw_replay_deferred(RW_ThreadState *ts);
void rw_drop_deferred(RW_ThreadState *ts);
int rw_is_lock_of(PyObject *v, const void *sv);
int rw_hold(RW_ThreadState *ts, PyObject *info, PyObject *alone);
int rw_unhold(RW_ThreadState *ts, PyObject *info);
int rw_sync_ready(PyObject *module);

/* -- threads.py's ThreadInfo.events (events.c) ------------------------------------------ */

typedef struct RW_EventRing RW_EventRing;
extern PyTypeObject RW_EventRingType;

/* Note an event on the ring: ``where`` is a code object (``lasti`` its offset) or, with
 * ``is_stack``, a stack; NULL for none.  Never fails (an event that finds no memory is not
 * kept). */
void rw_ring_note(RW_EventRing *ring, long long ns, PyObject *kind, PyObject *label,
                  PyObject *direction, PyObject *where, long lasti, int is_stack);
int rw_events_ready(PyObject *module);

/* -- patches/locks.py (locks.c) and patches/context.py (context.c) ---------------------- */

int rw_locks_ready(PyObject *module);
int rw_context_ready(PyObject *module);

/* patches.context.thread_state: the calling thread's state while the detector is on and not
 * busy; NULL with no error when there is none to record. */
static inline RW_ThreadState *
rw_patch_state(void)
{
    if (!rw_enabled()) {
        return NULL;
    }
    RW_ThreadState *ts = rw_current();
    if (ts == NULL) {
        PyErr_Clear();   /* no state to record into: the lock still works */
        return NULL;
    }
    return ts->busy ? NULL : ts;
}

/* -- tracked.py (tracked.c) ------------------------------------------------------------- */

PyObject *rw_track(PyObject *d);
PyObject *rw_mod_track(PyObject *self, PyObject *d);
PyObject *rw_keys_placeholder(PyObject *d);
PyObject *rw_mod_public_type(PyObject *self, PyObject *obj);
PyObject *rw_mod_is_tracked(PyObject *self, PyObject *obj);
PyObject *rw_mod_reflected_first(PyObject *self, PyObject *const *args, Py_ssize_t nargs);

/* -- races.py (sink.c) ------------------------------------------------------------------ */

int rw_sink_ready(PyObject *module);

/* -- the hot path: entering an access (enter.h) ----------------------------------------- */

#include "enter.h"

#endif /* RACEWATCH_CORE_H */
