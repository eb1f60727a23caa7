/* The FastTrack rules for each kind of access to a key's location in a tracked dict
 * (shadow.py's on_read, on_write, on_clear); those of the keys location and of a read of
 * every key are in rules_keys.c, and rules_module.c gives them all to Python. */

#include "engine.h"

/* -- making a record ------------------------------------------------------------------------ */

RW_Access *
rw_make_access(RW_ThreadState *ts, PyObject *op, int write)
{
    if (ts->replay != NULL) {
        /* A deferred read, recorded now: its own stack, locks and time (object.c). */
        RW_Access *rec = rw_access_new(ts, Py_NewRef(ts->replay->stack), op, write);
        if (rec != NULL) {
            Py_SETREF(rec->locks, Py_NewRef(ts->replay->held));
            rec->time = ts->replay->time;
        }
        return rec;
    }
    PyObject *stack = rw_capture(rw_settings->stack_depth, NULL, ts);
    if (stack == NULL) {
        return NULL;
    }
    for (int i = 0; i < RW_RECENT; i++) {
        RW_Access *last = ts->recent[i];
        if (last != NULL && last->stack == stack && last->clock == ts->clock && last->op == op
                && last->write == (char)(write != 0) && last->locks == ts->held) {
            Py_DECREF(stack);
            return (RW_Access *)Py_NewRef(last);
        }
    }
    RW_Access *rec = rw_access_new(ts, stack, op, write);
    if (rec == NULL) {
        return NULL;
    }
    Py_XSETREF(ts->recent[ts->recent_next], (RW_Access *)Py_NewRef(rec));
    ts->recent_next = (ts->recent_next + 1) % RW_RECENT;
    return rec;
}

/* ``key``'s hash for the lookups and stores of one access: the caller's when it has one
 * (-1: none yet).  -1 with an error set when the key has none; the access is then not
 * recorded (``hashed`` says whether the error propagates, as lookup_fast does). */
static int
hashed(PyObject *key, Py_hash_t *hash)
{
    if (*hash != -1) {
        return 0;
    }
    *hash = rw_key_hash(key);
    if (*hash != -1) {
        return 0;
    }
    if (PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        return -1;
    }
    return -2;
}

/* Once a shadow has locations for an eighth of a large dict's keys, it is made to hold
 * all of them at once, as None (no location yet), with the dict's own key objects: one
 * allocation instead of a dict grown step by step to the same size (the steps stay in the
 * memory of the thread that grew it), and no second object for each key (a program that
 * looks keys up by value, ``d[i]`` for i in a range, passes a new object each time). */
static int
prefill(RW_Shadow *sh, PyObject *d, rw_batch *b)
{
    if (sh->kind_id > RW_KIND_DEFAULTDICT) {
        return 0;   /* the dict's own key objects: dicts only */
    }
    Py_ssize_t n = PyDict_GET_SIZE(sh->locs);
    Py_ssize_t size = PyDict_GET_SIZE(d);
    if (sh->prefilled || n < 8192 || n * 8 < size) {
        return 0;
    }
    sh->prefilled = 1;
    if (size < 2 * n) {
        return 0;   /* it is nearly all there already */
    }
    PyObject *full = rw_keys_placeholder(d);
    if (full == NULL) {
        return 0;
    }
    rw_shadow_keeps(sh, d, full);   /* the dict's keys: a tracked one made ``full`` tracked */
    if (PyDict_Merge(full, sh->locs, 1) < 0) {
        Py_DECREF(full);
        return -1;
    }
    PyObject *old = sh->locs;
#ifdef Py_GIL_DISABLED
    /* Other threads read the table without a reference (lookup_fast): the old one lives
     * as long as the shadow.  It held an eighth of the keys at most. */
    if (sh->retired_locs == NULL && (sh->retired_locs = PyList_New(0)) == NULL) {
        Py_DECREF(full);
        return -1;
    }
    if (PyList_Append(sh->retired_locs, old) < 0) {
        Py_DECREF(full);
        return -1;
    }
    __atomic_store_n(&sh->locs, full, __ATOMIC_RELEASE);
    Py_DECREF(old);
    (void)b;
    return 0;
#else
    sh->locs = full;
    RW_LOCS_CHANGED(sh);
    return rw_batch_trash(b, old);
#endif
}

/* Whether ``sh``'s locations grew past the point of its next sweep (rw_sweep).  Read
 * without the shadow's lock too (read_unseen): the sweep moves that point atomically. */
static inline int
sweep_due(RW_Shadow *sh)
{
    return rw_kind_sweeps(sh) && PyDict_GET_SIZE(sh->locs) > RW_LOAD(&sh->sweep_at);
}

/* The fast path's lookup, kept for the checks that follow it. */
typedef struct {
    PyObject *locs;          /* compared by address: the version says it is the same */
    unsigned long long version;
    int found;
    PyObject *v;             /* borrowed from the caller, which holds it */
} rw_prior_lookup;

/* The fast path's lookup: -1 when ``locs.get(key)`` raised an Exception (the reference
 * returns without a record: the dict operation raises the same error), -2 for a
 * BaseException that is not one (it propagates), else 0 or 1 (found, in *pv).  ``prior``
 * keeps what it found, with the shadow's version of ``locs`` read first. */
#ifndef Py_GIL_DISABLED
/* GIL builds: the location borrowed (nothing runs between the lookup's return and its
 * use: rw_first_look_read and rw_first_look_write take it so, lookup_fast holds it). */
static inline int
look(RW_Shadow *sh, PyObject *key, Py_hash_t hash, PyObject **pv, rw_prior_lookup *prior)
{
    /* Held: another key of the table, equal in hash, may be an object whose __eq__ runs
     * code that replaces it (prefill).  The location found is the table's when the lookup
     * returns. */
    PyObject *locs = Py_NewRef(sh->locs);
    prior->version = sh->locs_version;
    prior->locs = locs;
    PyObject *v = _PyDict_GetItem_KnownHash(locs, key, hash);
    Py_DECREF(locs);
    if (v == NULL && PyErr_Occurred()) {
        *pv = prior->v = NULL;
        prior->found = -1;
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            return -2;
        }
        PyErr_Clear();
        return -1;
    }
    *pv = prior->v = v != Py_None ? v : NULL;   /* (None: prefill's, no location yet) */
    return prior->found = *pv != NULL;
}

static int
lookup_fast(RW_Shadow *sh, PyObject *key, Py_hash_t hash, PyObject **pv,
            rw_prior_lookup *prior)
{
    int found = look(sh, key, hash, pv, prior);
    Py_XINCREF(*pv);
    return found;
}
#else
static int
lookup_fast(RW_Shadow *sh, PyObject *key, Py_hash_t hash, PyObject **pv,
            rw_prior_lookup *prior)
{
    /* Borrowed: a table that prefill replaces lives as long as the shadow, and one is
     * otherwise replaced only in a forked child, at the first access of the shadow there,
     * before any thread's access reads it (rw_enter_shadow); a reference would be an
     * atomic add and subtract, at every access of every thread, on the one count of a
     * table that all of them read. */
    PyObject *locs = __atomic_load_n(&sh->locs, __ATOMIC_ACQUIRE);
    prior->version = RW_LOAD_ACQUIRE(&sh->locs_version);   /* before the lookup */
    prior->locs = locs;
    int found = loc_lookup(sh, locs, key, hash, pv);
    prior->found = found;
    prior->v = *pv;
    if (found < 0) {
        if (PyErr_ExceptionMatches(PyExc_Exception)) {
            PyErr_Clear();
            return -1;
        }
        return -2;
    }
    return found;
}
#endif

/* The locked lookup of ``key`` in ``locs``, as loc_lookup: what the fast path found, when
 * ``locs`` has not changed since (every change moves the version, before and after it,
 * so that a lookup made while Python code ran inside one is not taken).  Free-threaded
 * builds take a location the fast path found, not its absence: a key without one can be
 * claimed meanwhile without the lock (RW_LOCS_CHANGED). */
static int
loc_lookup_locked(RW_Shadow *sh, PyObject *locs, PyObject *key, Py_hash_t hash,
                  const rw_prior_lookup *prior, PyObject **pv)
{
#ifndef Py_GIL_DISABLED
    if (prior != NULL && prior->found >= 0 && prior->locs == locs
            && prior->version == sh->locs_version) {
        *pv = Py_XNewRef(prior->v);
        return prior->found;
    }
#else
    if (prior != NULL && prior->found > 0 && prior->locs == locs
            && prior->version == RW_LOAD(&sh->locs_version)) {
        *pv = Py_NewRef(prior->v);
        return 1;
    }
#endif
    return loc_lookup(sh, locs, key, hash, pv);
}

/* Store ``v`` for ``key`` in ``locs``, moving the shadow's version before and after. */
static int
loc_store(RW_Shadow *sh, PyObject *locs, PyObject *key, PyObject *v, Py_hash_t hash)
{
    RW_LOCS_CHANGED(sh);
    int rc = _PyDict_SetItem_KnownHash(locs, key, v, hash);
    RW_LOCS_CHANGED(sh);
    return rc;
}

#ifdef Py_GIL_DISABLED
/* Put ``v`` in ``locs`` for ``key`` only if the key has no entry there: 1 when it did; 0
 * when it has one, given in *there (a new reference); -1 on an error.  A locked path that
 * found no location for such a key claims it this way, so that it never overwrites one
 * that read_unseen put there meanwhile. */
static int
loc_claim(PyObject *locs, PyObject *key, PyObject *v, PyObject **there)
{
    int present = PyDict_SetDefaultRef(locs, key, v, there);
    if (present == 0) {
        Py_CLEAR(*there);   /* ``v`` itself */
        return 1;
    }
    return present < 0 ? -1 : 0;
}
#endif

/* A location's Loc that nothing but ``locs`` and the ``held`` references of this access
 * keep (no other key shares it, no thread's cache of Locs holds it): changed in place, it
 * needs no new Loc, no store and no release of the old one.  GIL builds only: on
 * free-threaded builds other threads read a Loc without the shadow's lock, so a stored Loc
 * never changes there (and a reference count says little). */
static inline int
loc_exclusive(PyObject *v, Py_ssize_t held)
{
#ifdef Py_GIL_DISABLED
    (void)v;
    (void)held;
    return 0;
#else
    return Py_IS_TYPE(v, &RW_LocType) && Py_REFCNT(v) == 1 + held;
#endif
}

/* The references to ``v`` that a locked check holds: its own lookup's, and the fast
 * path's when it found the same object (its caller holds that one). */
static inline Py_ssize_t
refs_held(const rw_prior_lookup *prior, PyObject *v)
{
    return 1 + (prior != NULL && prior->found > 0 && prior->v == v);
}

/* -- the rules ------------------------------------------------------------------------------ */

static int
read_locked(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
            RW_Access *cur, const rw_prior_lookup *prior, rw_batch *b)
{
    PyObject *vc = ts->vc;
    rw_shadow_keeps(sh, d, key);
    PyObject *locs = Py_NewRef(sh->locs);
    PyObject *v;
    RW_Loc *made = NULL;
    int rc = 0;
    int found = loc_lookup_locked(sh, locs, key, hash, prior, &v);
#ifdef Py_GIL_DISABLED
again:
#endif
    if (found < 0) {
        rc = -1;
    }
    else if (!found) {
        if (rw_tracking()) {   /* else: the memory budget is spent, no new key */
            made = rw_loc_shared(ts, NULL, cur, NULL);
            rc = made == NULL ? -1 : 0;
        }
    }
    else if (Py_IS_TYPE(v, &RW_AccessType)) {
        RW_Access *w = (RW_Access *)v;
        if (!covered(w, vc)) {
            rc = rw_batch_add(b, w, key, 0, NULL, NULL);
        }
        if (rc == 0) {
            made = rw_loc_shared(ts, w, cur, NULL);
            rc = made == NULL ? -1 : 0;
        }
    }
    else if (as_loc(v) != NULL) {
        RW_Loc *loc = (RW_Loc *)v;
        if (loc->w != NULL && !covered(loc->w, vc)) {
            rc = rw_batch_add(b, loc->w, key, 0, NULL, NULL);
        }
        if (rc == 0 && loc_exclusive(v, refs_held(prior, v))) {
            rc = rw_rs_add(&loc->r, cur, vc);   /* the same state rw_loc_with_read makes */
        }
        else if (rc == 0) {
            made = rw_loc_with_read(ts, loc, cur, vc);
            rc = made == NULL ? -1 : 0;
        }
    }
#ifdef Py_GIL_DISABLED
    if (made != NULL && !found && unlocked_key(sh, key)) {
        int claimed = loc_claim(locs, key, (PyObject *)made, &v);
        Py_CLEAR(made);
        if (claimed == 0) {
            found = 1;   /* another thread's first read put it there meanwhile */
            goto again;
        }
        rc = claimed < 0 ? -1 : 0;
    }
#endif
    if (made != NULL) {
        /* Published by one store: the shadow is whole before and after it. */
        rc = loc_store(sh, locs, key, (PyObject *)made, hash);
        Py_DECREF(made);
        if (rc == 0 && !found) {
            rc = prefill(sh, d, b);
        }
    }
    Py_XDECREF(v);
    Py_DECREF(locs);
    return rc;
}

#ifdef Py_GIL_DISABLED
/* Free-threaded builds: the read of a key that has no location yet, without the shadow's
 * lock.  A key a dict does not hold (a lookup of an ever-new id) is recorded in the
 * thread's own table (absent.c).  Any other (a first read of a key the container holds)
 * gets a location holding this read alone, which nothing can conflict with: it goes in by
 * one insert that only a key without an entry takes (loc_claim), as every locked path that
 * finds no location puts its own.  Two threads that ask a shared dict for keys it does not
 * hold otherwise took turns on the shadow's lock at every lookup (`perf` of `missing_keys`
 * on 3.13t: a fifth of the time in that lock's sched_yield), then on its table's.  For an
 * unlocked_key while tracking; the sweep, when due, takes the lock.  1: done; 0: the
 * locked path is to do it; -1: an error. */
static int
read_unseen(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
            PyObject *op)
{
    if (!unlocked_key(sh, key) || !rw_tracking()) {
        return 0;
    }
    /* A dict's key it does not hold: the record goes in the thread's own table (absent.c),
     * and then the location the key has now, if a write made one meanwhile, is looked for:
     * when there is one and the record is still the thread's to take back, the locked way
     * checks the read against it. */
    int absent = sh->kind_id <= RW_KIND_DEFAULTDICT ? rw_dict_contains_kh(d, key, hash) : 1;
    if (absent < 0) {
        return -1;
    }
    absent = !absent;
    RW_Access *cur = rw_make_access(ts, op, 0);
    if (cur == NULL) {
        return -1;
    }
    RW_Loc *made = rw_loc_shared(ts, NULL, cur, NULL);
    if (absent && made != NULL) {
        int done = rw_absent_read(ts, sh, d, key, hash, (PyObject *)made);
        Py_DECREF(made);
        if (done > 0) {
            remember_read(ts, sh, key, cur);
        }
        Py_DECREF(cur);
        return done;
    }
    PyObject *there = NULL;
    int claimed = made == NULL ? -1 : loc_claim(sh->locs, key, (PyObject *)made, &there);
    Py_XDECREF(made);
    Py_XDECREF(there);
    if (claimed == 1) {
        remember_read(ts, sh, key, cur);
        if (sweep_due(sh)) {
            ts->busy++;
            Py_BEGIN_CRITICAL_SECTION(sh);
            if (sweep_due(sh)) {   /* (another thread may have swept meanwhile) */
                claimed = rw_sweep(sh, d) < 0 ? -1 : 1;
            }
            Py_END_CRITICAL_SECTION();
            ts->busy--;
        }
    }
    Py_DECREF(cur);
    return claimed;
}
#endif

int
rw_on_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, PyObject *op)
{
    return rw_on_read_kh(ts, sh, d, key, -1, op);
}

/* rw_on_read_kh past its lookup: ``found`` and ``v`` (a new reference, or NULL, let go of
 * here) as lookup_fast gave them, with ``prior``. */
static int
read_looked_up(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
               PyObject *op, int found, PyObject *v, rw_prior_lookup *prior)
{
    int same = found == 1 && rw_read_adds_nothing(v, ts);
    if (found < 0 || same) {
        Py_XDECREF(v);
        return found == -2 ? -1 : 0;
    }
#ifdef Py_GIL_DISABLED
    if (found == 0) {
        int done = read_unseen(ts, sh, d, key, hash, op);
        if (done != 0) {
            return done < 0 ? -1 : 0;
        }
    }
#endif
    rw_slow s;
    if (rw_slow_begin(&s, ts, op, 0) < 0) {
        Py_XDECREF(v);
        return -1;
    }
    int rc;
    Py_BEGIN_CRITICAL_SECTION(sh);
    rc = read_locked(ts, sh, d, key, hash, s.cur, prior, &s.b);
    /* A read of a missing key makes a location too: absent keys are swept as deleted ones. */
    if (rc == 0 && sweep_due(sh)) {
        rc = rw_sweep(sh, d);
    }
    Py_END_CRITICAL_SECTION();
    if (rc == 0 && (found == 1 || rw_tracking())) {   /* (else: no location made) */
        remember_read(ts, sh, key, s.cur);
    }
    rc = rw_slow_end(&s, ts, sh, rc);
    Py_XDECREF(v);   /* held since the fast path: ``prior`` lends it */
    return rc;
}

int
rw_on_read_kh(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
              PyObject *op)
{
    PyObject *v = NULL;
    rw_prior_lookup prior = {NULL, 0, -1, NULL};
    int found = hashed(key, &hash);
    if (found == 0) {
        found = lookup_fast(sh, key, hash, &v, &prior);
    }
    return read_looked_up(ts, sh, d, key, hash, op, found, v, &prior);
}


/* ``remembered``: the thread's own last read of the key (remembered_read), or NULL. */
static int
check_write(RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash, RW_Access *cur,
            PyObject *vc, const rw_prior_lookup *fast, RW_Access *remembered, rw_batch *b)
{
    if (hash == -1 && (hash = PyObject_Hash(key)) == -1) {
        return -1;
    }
    rw_shadow_keeps(sh, d, key);   /* in locs, the write summary, the keys' updates */
    PyObject *locs = Py_NewRef(sh->locs);
    PyObject *v = NULL;
    int stored = 0;
#ifndef Py_GIL_DISABLED
    int found = loc_lookup_locked(sh, locs, key, hash, fast, &v);
#else
    int claim = rw_tracking() && unlocked_key(sh, key);
    /* A key the fast path found without a location is claimed without looking again: the
     * claim finds one put there meanwhile. */
    int found = claim && fast != NULL && fast->found == 0 && fast->locs == locs
                ? 0 : loc_lookup_locked(sh, locs, key, hash, fast, &v);
    int fresh = found == 0;   /* no location before this write */
    if (found == 0 && claim) {
        /* Claimed before the checks: a first read that read_unseen puts there meanwhile is
         * then found, and checked, rather than overwritten. */
        stored = loc_claim(locs, key, (PyObject *)cur, &v);
        found = stored == 0 ? 1 : stored < 0 ? -1 : 0;
    }
    RW_Access *absent_own = NULL;
#endif
    int rc = found < 0 ? -1 : 0;
    Py_ssize_t first = b->n;
#ifdef Py_GIL_DISABLED
    /* The lookups of the key that threads recorded in their own tables (absent.c): a
     * lookup records there only when it finds no location for the key, so a write that
     * found one has none to take (a lookup that looked before that location came looks
     * again after recording, and finds it).  The key's location is in ``locs`` now
     * (claimed above): a lookup recorded after this look finds it. */
    if (rc == 0 && fresh && unlocked_key(sh, key) && rw_has_absent(sh)) {
        rc = rw_absent_check_write(sh, key, cur, vc, b, &absent_own);
    }
#endif
    /* This thread's own read of the key, from its reads or its reads of every key. */
    RW_Access *prior = found > 0 && as_loc(v) != NULL ? rs_own_read(&((RW_Loc *)v)->r, cur)
                       : NULL;
    if (prior == NULL) {
        prior = rs_own_read(&sh->allr, cur);
    }
    if (prior == NULL) {
        prior = remembered;
    }
#ifdef Py_GIL_DISABLED
    if (prior == NULL) {
        prior = absent_own;
    }
#endif
    if (found > 0) {
        RW_Loc *loc = as_loc(v);
        if (Py_IS_TYPE(v, &RW_AccessType)) {
            if (!covered((RW_Access *)v, vc)) {
                rc = rw_batch_add(b, (RW_Access *)v, key, 0, NULL, NULL);
            }
        }
        else if (loc != NULL) {
            if (loc->w != NULL && !covered(loc->w, vc)) {
                rc = rw_batch_add(b, loc->w, key, 0, NULL, NULL);
            }
            if (rc == 0) {
                rc = rw_rs_unordered(&loc->r, vc, b, key, 0, NULL, NULL);
            }
        }
    }
    if (rc == 0) {
        rc = rw_rs_unordered(&sh->allr, vc, b, key, 0, NULL, NULL);
    }
    rw_batch_prior(b, first, prior);   /* before the store below lets go of ``v`` */
    if (rc == 0 && found > 0 && loc_exclusive(v, refs_held(fast, v))) {
        /* The write and no read since: what storing ``cur`` alone says. */
        RW_Loc *loc = (RW_Loc *)v;
        Py_XSETREF(loc->w, (RW_Access *)Py_NewRef(cur));
        rw_rs_clear(&loc->r);
        rc = rw_slotmap_set(&sh->wsum, cur, key, b);
    }
    else if (rc == 0 && (found > 0 || stored || rw_tracking())) {
        /* (else: the memory budget is spent, no new key) */
        rc = stored ? 0 : loc_store(sh, locs, key, (PyObject *)cur, hash);
        if (rc == 0) {
            rc = rw_slotmap_set(&sh->wsum, cur, key, b);
        }
        if (rc == 0 && !found) {
            rc = prefill(sh, d, b);
        }
    }
#ifdef Py_GIL_DISABLED
    Py_XDECREF(absent_own);
#endif
    Py_XDECREF(v);
    Py_DECREF(locs);
    return rc;
}

int
rw_on_write(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, PyObject *op,
            int keys_change)
{
    return rw_on_write_kh(ts, sh, d, key, -1, op, keys_change);
}

/* Whether a write by ``ts`` adds nothing to a location's record ``v``: it holds a write of
 * ``ts`` in its current epoch. */
static inline int
write_adds_nothing(PyObject *v, const RW_ThreadState *ts)
{
    RW_Loc *loc = as_loc(v);
    return Py_IS_TYPE(v, &RW_AccessType) ? same_epoch((RW_Access *)v, ts)
           : loc != NULL && same_epoch(loc->w, ts);
}

/* rw_on_write_kh past its lookup, as read_looked_up. */
static int
write_looked_up(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
                PyObject *op, int keys_change, int found, PyObject *v, rw_prior_lookup *prior)
{
    int same = found == 1 && !keys_change && write_adds_nothing(v, ts);
    if (found < 0 || same) {
        Py_XDECREF(v);
        return found == -2 ? -1 : 0;
    }
    rw_slow s;
    if (rw_slow_begin(&s, ts, op, 1) < 0) {
        Py_XDECREF(v);
        return -1;
    }
    int rc;
    Py_BEGIN_CRITICAL_SECTION(sh);
    RW_Access *remembered = (RW_Access *)Py_XNewRef(remembered_read(ts, sh, key, s.cur));
    rc = check_write(sh, d, key, hash, s.cur, ts->vc, prior, remembered, &s.b);
    Py_XDECREF(remembered);
    if (rc == 0 && keys_change) {
        rc = rw_update_keys(sh, key, s.cur, ts->vc, &s.b);
        if (rc == 0 && sweep_due(sh)) {
            rc = rw_sweep(sh, d);
        }
    }
    Py_END_CRITICAL_SECTION();
    rc = rw_slow_end(&s, ts, sh, rc);
    Py_XDECREF(v);   /* held since the fast path: ``prior`` lends it */
    return rc;
}

int
rw_on_write_kh(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, Py_hash_t hash,
               PyObject *op, int keys_change)
{
    PyObject *v = NULL;
    rw_prior_lookup prior = {NULL, 0, -1, NULL};
    int found = hashed(key, &hash);
    if (found == 0) {
        found = lookup_fast(sh, key, hash, &v, &prior);
    }
    return write_looked_up(ts, sh, d, key, hash, op, keys_change, found, v, &prior);
}

#ifndef Py_GIL_DISABLED
/* -- GIL builds: a dict's reads and writes of a key without rw_enter's call ----------------- *
 * Most accesses are ones the thread made already in its epoch.  rw_record_read and
 * rw_dict_key_write (tracked.h, dict.h) find those here, with rw_enter's checks inline
 * (rw_first_look) and one lookup of the key's location, and take any other access on from
 * that lookup to the rule's checks.  rw_enter's way, its calls and the references it takes,
 * and lookup_fast's, were a third of what racewatch added to a repeated read of a dict's
 * key (``scaling`` on 3.11, callgrind: 3,505 instructions a task against 1,814 plain; 3,224
 * with this way).  For a str or an int key (hashed): its own comparisons run no code. */

static inline int
first_look_key(PyObject *key, Py_hash_t hash)
{
    return hash != -1 && (PyUnicode_CheckExact(key) || PyLong_CheckExact(key));
}

/* The shadow of ``d`` for a first look at ``ts``'s access of ``key``, or NULL: then the
 * access takes rw_enter's way.  A solo thread's access is done here, counted (*done). */
static inline RW_Shadow *
first_look(PyObject *d, PyObject *key, Py_hash_t hash, RW_ThreadState *ts, int *done)
{
    *done = 0;
    RW_Shadow *sh = first_look_key(key, hash) ? rw_first_look(d, ts) : NULL;
    if (sh != NULL && (PyObject *)ts == rw_solo_get()) {
        ts->accesses++;   /* (rw_enter counts it, and checks nothing) */
        *done = 1;
    }
    return sh;
}

int
rw_first_look_read(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op)
{
    RW_ThreadState *ts = rw_tls_state;
    int done;
    RW_Shadow *sh = first_look(d, key, hash, ts, &done);
    if (sh == NULL || done) {
        return done ? 0 : rw_record_read_entered(d, key, hash, op);
    }
    PyObject *v;
    rw_prior_lookup prior;
    int found = look(sh, key, hash, &v, &prior);
    ts->accesses++;   /* (as rw_enter counts it) */
    if (found == 1 && rw_read_adds_nothing(v, ts)) {
        return 0;
    }
    Py_INCREF(ts);   /* (as rw_enter gives it) */
    int rc = read_looked_up(ts, sh, d, key, hash, op, found, Py_XNewRef(v), &prior);
    Py_DECREF(ts);
    return rc < 0 ? -1 : 0;
}

int
rw_first_look_write(PyObject *d, PyObject *key, Py_hash_t hash, PyObject *op)
{
    RW_ThreadState *ts = rw_tls_state;
    int done;
    RW_Shadow *sh = first_look(d, key, hash, ts, &done);
    if (sh == NULL || done) {
        return done ? 0 : rw_dict_key_write_entered(d, key, hash, op);
    }
    PyObject *v;
    rw_prior_lookup prior;
    int found = look(sh, key, hash, &v, &prior);
    ts->accesses++;
    if (found == -2) {
        return -1;
    }
    /* Then whether ``d`` holds the key (an insert changes the keys too), as
     * rw_dict_key_write_entered asks it: a key's __eq__ may run code there, and what it
     * raises is the operation's; the location is held meanwhile. */
    Py_XINCREF(v);
    int present = rw_dict_contains_kh(d, key, hash);
    int rc = 0;
    if (present < 0) {
        Py_XDECREF(v);
        rc = -1;
    }
    else if (found == 1 && present && write_adds_nothing(v, ts)) {
        Py_DECREF(v);
    }
    else if (found >= 0) {
        Py_INCREF(ts);
        rc = write_looked_up(ts, sh, d, key, hash, op, !present, found, v, &prior);
        Py_DECREF(ts);
    }
    else {
        Py_XDECREF(v);   /* (the lookup raised an Exception: nothing recorded, as the rule) */
    }
    return rc < 0 ? -1 : 0;
}
#endif

int
rw_on_clear(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *op)
{
    rw_slow s;
    if (rw_slow_begin(&s, ts, op, 1) < 0) {
        return -1;
    }
    int rc;
    PyObject *vc = ts->vc;
    Py_BEGIN_CRITICAL_SECTION(sh);
    PyObject *keys = rw_keys_now(sh, d);   /* a snapshot */
    rc = keys == NULL ? -1 : 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(keys); i++) {
        rc = check_write(sh, d, PyList_GET_ITEM(keys, i), -1, s.cur, vc, NULL, NULL, &s.b);
    }
    if (rc == 0) {
        rc = rw_write_keys(sh, NULL, s.cur, vc, &s.b);
    }
    Py_XDECREF(keys);
    Py_END_CRITICAL_SECTION();
    return rw_slow_end(&s, ts, sh, rc);
}
