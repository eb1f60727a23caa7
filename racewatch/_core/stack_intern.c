/* The intern table of stacks (stacks.c captures them), and each thread's cache of it.
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
 * every thread stopped).
 */

#include "core.h"

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
#define STACK_CACHE_AFTER 64   /* stacks a thread looks up in the table before it keeps
                                * them: a short-lived thread's few would not pay for the
                                * cache's 8 KB, its clearing and the collector's visits */

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
            && (++ts->stack_lookups < STACK_CACHE_AFTER
                || (ts->stack_cache = PyMem_Calloc(1, sizeof(struct rw_stack_cache))) == NULL)) {
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

/* A new reference to the interned stack for ``key``: from the thread's cache, else from the
 * table (and then cached). */
PyObject *
rw_stack_interned(const rw_frame_key *key, Py_ssize_t n, RW_ThreadState *ts)
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
