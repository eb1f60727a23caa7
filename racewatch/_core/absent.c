/* Free-threaded builds: the records of lookups of keys a dict does not hold, kept by each
 * thread in a table of its own rather than in the shadow's ``locs`` (rules.c, read_unseen).
 *
 * A lookup of a key that a shared dict does not hold is recorded (a later insert of that
 * key by another thread, unordered with it, is a check-then-act race), and a service that
 * checks ever-new ids against a shared table makes one record per lookup.  In ``locs``,
 * one table for every thread, each such record was an insert under that table's lock and,
 * at the sweep that bounds them, a removal under it again, of records other threads had
 * made: `missing_keys` on 3.13t spent half its time there (with those records not kept:
 * 0.64-0.68 s against 1.34-1.40 s, plain Python 0.39 s), and a table striped 16 ways by
 * hash gained only a twentieth (the references that the sweep gave back across threads,
 * and the sweep's own lock, stayed).  Here each thread inserts into and trims its own table
 * for the shadow, and only a write of the key (check_write, rw_absent_check_write) looks
 * into the others'.
 *
 * The model is shadow.py's: a record here is the location a lookup of an absent key makes
 * there, holding that one read, and a write checks it as it checks the reads of the
 * location (then it is gone, as a write lets go of a location's reads).  The bound is the
 * sweep's, counted per thread: past twice max(1024, the dict's size) records, the oldest
 * go down to max(1024, size), counted in the summary when they were still unordered.
 *
 * CONSISTENCY.  A lookup (read_unseen) puts its record in its table, then, past a
 * sequentially consistent fence, looks in ``locs`` for the key again.  A write (under the
 * shadow's lock) has its location in ``locs`` first (found, or claimed), then, past such a
 * fence, looks in every thread's table.  One of the two sees the other's store (two stores,
 * two fences, two loads: Dekker's), so no record escapes both.  When the write takes the
 * record out, it checks it.  When the lookup finds a location and takes its own record
 * back first, it goes the locked way (read_locked), which checks the read against the
 * location's write: the two operations overlapped (the lookup saw the key absent before
 * the write's insert; the write's location appeared before the lookup looked again), and
 * nothing can order accesses that overlap, so the two are reported as a race, as the
 * reference would report them.  A table's owner inserts into it and trims it; writers take
 * records out of it: each under the table's own lock. */

#include "engine.h"

#ifdef Py_GIL_DISABLED

/* A shadow's tables, by thread slot.  Replaced by a larger one under the shadow's lock;
 * the one replaced stays (``older``) until the shadow goes: writers read it without a
 * lock. */
struct rw_absent {
    Py_ssize_t n;
    struct rw_absent *older;
    PyObject *tables[];      /* dict: key -> Loc (the slot's last lookup of it), or NULL */
};

/* The table of thread slot ``slot`` for ``sh`` (borrowed), or NULL when it has none. */
static inline PyObject *
table_of(RW_Shadow *sh, Py_ssize_t slot)
{
    rw_absent *a = __atomic_load_n(&sh->absent, __ATOMIC_ACQUIRE);
    return a != NULL && slot < a->n ? __atomic_load_n(&a->tables[slot], __ATOMIC_ACQUIRE)
                                    : NULL;
}

/* The calling thread's table for ``sh`` (borrowed), made when it has none; NULL with an
 * exception set on error.  Only the thread of ``slot`` sets its place; a thread that takes
 * a slot another thread had (which ended) takes its table with it. */
static PyObject *
own_table(RW_Shadow *sh, Py_ssize_t slot)
{
    PyObject *t = table_of(sh, slot);
    if (t != NULL) {
        return t;
    }
    t = PyDict_New();
    if (t == NULL) {
        return NULL;
    }
    int rc = 0;
    PyObject *had = NULL;
    Py_BEGIN_CRITICAL_SECTION(sh);
    rw_absent *a = sh->absent;
    if (a == NULL || slot >= a->n) {
        Py_ssize_t n = Py_MAX(Py_MAX(slot + 1, 4), a != NULL ? 2 * a->n : 0);
        rw_absent *grown = PyMem_RawCalloc(1, sizeof(rw_absent) + (size_t)n * sizeof(PyObject *));
        if (grown == NULL) {
            rc = -1;
        }
        else {
            grown->n = n;
            grown->older = a;
            for (Py_ssize_t i = 0; a != NULL && i < a->n; i++) {
                grown->tables[i] = a->tables[i];
            }
            __atomic_store_n(&sh->absent, grown, __ATOMIC_RELEASE);
            a = grown;
        }
    }
    had = rc == 0 ? a->tables[slot] : NULL;
    if (rc == 0 && had == NULL) {
        /* (every array holds the same references: the newest's are released) */
        __atomic_store_n(&a->tables[slot], t, __ATOMIC_RELEASE);
    }
    Py_END_CRITICAL_SECTION();
    if (rc < 0) {
        Py_DECREF(t);
        PyErr_NoMemory();
        return NULL;
    }
    if (had != NULL) {
        Py_DECREF(t);   /* (the slot's earlier thread made it) */
        return had;
    }
    return t;
}

/* Let go of the oldest records of ``t`` beyond ``keep``, as the sweep lets go of a
 * shadow's (sweep.c): counted when still unordered.  The owner's alone: the oldest records
 * are read under the table's lock, then each taken out if a write has not taken it. */
static int
trim(PyObject *t, Py_ssize_t keep)
{
    Py_ssize_t excess = PyDict_GET_SIZE(t) - keep;
    if (excess <= 0) {
        return 0;
    }
    Py_ssize_t nmin;
    long long *minc = rw_min_clocks(&nmin);
    if (minc == NULL) {
        return -1;
    }
    PyObject **snap = PyMem_Malloc((size_t)excess * 2 * sizeof(PyObject *));
    if (snap == NULL) {
        PyMem_Free(minc);
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t n = 0, pos = 0;
    PyObject *key, *v;
    Py_BEGIN_CRITICAL_SECTION(t);
    while (n < excess && PyDict_Next(t, &pos, &key, &v)) {
        snap[2 * n] = Py_NewRef(key);
        snap[2 * n + 1] = Py_NewRef(v);
        n++;
    }
    Py_END_CRITICAL_SECTION();
    int rc = 0;
    Py_ssize_t unordered = 0, lookups = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *rec = snap[2 * i + 1];
        int gone = rc == 0 ? rw_forget_location(t, snap[2 * i], rec) : 0;
        if (gone < 0) {
            rc = -1;
        }
        else if (gone && !rw_ordered_before(rec, minc, nmin)) {
            unordered++;
            lookups += rw_only_lookups(rec);
        }
        Py_DECREF(snap[2 * i]);
        Py_DECREF(snap[2 * i + 1]);
    }
    rw_count_forgotten(unordered, lookups);
    PyMem_Free(snap);
    PyMem_Free(minc);
    return rc;
}

/* Record ``made`` (a Loc holding the calling thread's read of ``key``, which dict ``d``
 * does not hold) in the thread's table for ``sh``, trimmed past its bound; then a fence,
 * before the caller looks in ``locs`` again.  -1 on an error. */
static int
record(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
       PyObject *made)
{
    PyObject *t = own_table(sh, ts->slot);
    if (t == NULL || _PyDict_SetItem_KnownHash(t, key, made, hash) < 0) {
        return -1;
    }
    Py_ssize_t keep = Py_MAX(PyDict_Size(d), 1024);
    int rc = PyDict_GET_SIZE(t) > 2 * keep ? trim(t, keep) : 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the record, then the look in locs */
    return rc;
}

/* Take the calling thread's record of ``key`` back: 1 when it was there, 0 when a write
 * took it, -1 on an error. */
static int
take_own(RW_ThreadState *ts, RW_Shadow *sh, PyObject *key)
{
    PyObject *t = table_of(sh, ts->slot);
    if (t == NULL) {
        return 0;
    }
    PyObject *got;
    int found = PyDict_Pop(t, key, &got);
    Py_XDECREF(got);
    return found;
}

int
rw_absent_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
               PyObject *made)
{
    if (record(ts, sh, d, key, hash, made) < 0) {
        return -1;
    }
    PyObject *v = NULL;
    int found = loc_lookup(sh, __atomic_load_n(&sh->locs, __ATOMIC_ACQUIRE), key, hash, &v);
    Py_XDECREF(v);
    if (found > 0) {
        found = take_own(ts, sh, key);   /* 1: taken back, the locked way is to check it */
        return found < 0 ? -1 : !found;
    }
    return found < 0 ? -1 : 1;
}

int
rw_absent_check_write(RW_Shadow *sh, PyObject *key, RW_Access *cur, PyObject *vc,
                      rw_batch *b, RW_Access **own)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the write's location, then the look here */
    rw_absent *a = __atomic_load_n(&sh->absent, __ATOMIC_ACQUIRE);
    int rc = 0;
    for (Py_ssize_t i = 0; a != NULL && rc == 0 && i < a->n; i++) {
        PyObject *t = __atomic_load_n(&a->tables[i], __ATOMIC_ACQUIRE);
        PyObject *v = NULL;
        /* (a look without the table's lock first: most writes find nothing) */
        int found = t != NULL ? PyDict_GetItemRef(t, key, &v) : 0;
        Py_CLEAR(v);
        if (found > 0) {
            found = PyDict_Pop(t, key, &v);   /* (its owner may have taken it back) */
        }
        if (found < 0) {
            rc = -1;
        }
        RW_Loc *loc = found > 0 ? as_loc(v) : NULL;
        if (loc != NULL) {
            if (*own == NULL) {
                *own = (RW_Access *)Py_XNewRef(rs_own_read(&loc->r, cur));
            }
            rc = rw_rs_unordered(&loc->r, vc, b, key, 0, NULL, NULL);
        }
        Py_XDECREF(v);
    }
    return rc;
}

int
rw_absent_traverse(RW_Shadow *sh, visitproc visit, void *arg)
{
    rw_absent *a = sh->absent;
    for (Py_ssize_t i = 0; a != NULL && i < a->n; i++) {
        Py_VISIT(a->tables[i]);
    }
    return 0;
}

void
rw_absent_forget(RW_Shadow *sh)
{
    rw_absent *a = __atomic_load_n(&sh->absent, __ATOMIC_ACQUIRE);
    for (Py_ssize_t i = 0; a != NULL && i < a->n; i++) {
        PyObject *t = __atomic_load_n(&a->tables[i], __ATOMIC_ACQUIRE);
        if (t != NULL) {
            PyDict_Clear(t);   /* (Locs and Accesses: no Python code runs) */
        }
    }
}

void
rw_absent_clear(RW_Shadow *sh)
{
    rw_absent *a = sh->absent;
    sh->absent = NULL;
    for (Py_ssize_t i = 0; a != NULL && i < a->n; i++) {
        Py_CLEAR(a->tables[i]);
    }
    while (a != NULL) {
        rw_absent *older = a->older;
        PyMem_RawFree(a);
        a = older;
    }
}

#endif /* Py_GIL_DISABLED */
