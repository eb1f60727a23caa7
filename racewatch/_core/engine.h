/* The engine: shadow state of a tracked container and the FastTrack rules that check each
 * access (internal declarations shared by its files).
 *
 * The reference is racewatch/runtime/shadow.py: the same types (Access, Loc, KeysLoc,
 * Shadow, Conflict), the same rules in the same order, the same reports.  In C they are
 * spread over one file per part:
 *
 *   access.c    Access records and read sets
 *   location.c  Loc and KeysLoc, and the sharing of identical locations
 *   shadow.c    the Shadow type, attaching one to a tracked dict, entering an access
 *   rules.c     the FastTrack rules for each kind of access to a key's location
 *   rules_keys.c  those of the keys location and of a read of every key
 *   rules_module.c  their entry points for Python callers (shadow.on_read & co)
 *   sweep.c     forgetting deleted keys
 *   absent.c    free-threaded builds: each thread's records of lookups of absent keys
 *   conflict.c  Conflict, and the batch of conflicts one update finds, handed to the sink
 *
 * Some representations differ from the reference's, invisibly to the rest of racewatch:
 *
 * * a Loc never changes once it is stored in ``locs``: a read stores a new one instead of
 *   changing the old one in place, and identical ones are shared (a thread that reads a
 *   million keys in one epoch leaves them one Loc, where the reference makes a million);
 * * a read set shared by two threads is kept in the Loc itself (the reference makes a
 *   {slot: Access} dict, which is what ``Loc.r`` still shows);
 * * the keys location is part of the Shadow (``Shadow.keys`` shows a KeysLoc copy), and
 *   the per-slot write summary (``wsum``) and the updates of the keys location (``u``) are
 *   arrays of (slot, Access, key).
 *
 * CONSISTENCY ------------------------------------------------------------------------------
 *
 * The fast path (an access in an epoch already recorded for the location) looks the key up
 * in ``locs`` and compares two integers of what it found: only the accessing thread can
 * make records of its own epoch, and Access and Loc objects never change, so a reference
 * to one is all it needs.  Everything else (the slow path) builds the record first
 * (capturing the stack may allocate, and so may run the garbage collector on 3.10 and
 * 3.11), then updates the shadow, then builds the Conflict objects and calls the sink.
 * While it updates the shadow the thread's ``busy`` counter is raised, so that an access
 * made from code that runs in the middle (a key's __hash__ or __eq__, a finalizer) is
 * ignored, never re-entered and never waited for.
 *
 * GIL builds rely on the GIL.  The only points of the update where Python code can run,
 * and so where the interpreter can switch threads, are the key's __hash__/__eq__ inside a
 * lookup or store on ``locs`` (for keys of a class with such methods).  Each leaves the
 * shadow whole: a location is read into a new reference, its new state is built apart, and
 * it is published by one store into ``locs``; the keys location and the summaries change
 * in C code that runs no Python code; keys an update lets go of are released only once it
 * is complete.  When another thread changes the same key's location during such a call,
 * one of the two updates can be lost: a race with that key can then be missed, never
 * invented.  The sweep of deleted keys works on a snapshot of ``locs`` and tolerates keys
 * that went or came meanwhile.
 *
 * Free-threaded builds (Py_GIL_DISABLED): ``locs`` is a dict, safe to use from any thread,
 * and what it holds never changes, so the fast path takes no lock on a key's location.
 * The keys location, the whole-dict read set and the write summary do change in place:
 * they are read and updated under the shadow's critical section (its own mutex, not a
 * global lock), and so is every update of the slow path.  A critical section is
 * suspended while its thread blocks (in a key's __eq__, say), so the discipline above (a
 * whole state at every point where Python code runs) is what keeps it consistent there
 * too.  The dict's slot that holds its creation stack, then its shadow, changes once,
 * under the dict's critical section; the stack it held stays alive (the shadow owns it)
 * for a reader that loaded it just before.  SETTINGS' object fields are read under its
 * critical section.  ``Shadow.locs`` itself is replaced only after a fork, in the child,
 * while no other thread runs yet.
 *
 * TESTED: all of the above on GIL builds of CPython 3.10 to 3.13, by the whole test suite
 * run with RACEWATCH_CORE=c (tests/test_engine.py switches threads every microsecond while
 * four threads hammer one dict; the corpus covers every primitive), and on free-threaded
 * CPython 3.13t (tools/freethreaded-python): the whole suite with the GIL off, the parallel
 * stress tests (tests/test_stress.py: 4 and 8 threads on one dict) run hundreds of times,
 * and those and the corpus under ThreadSanitizer (tools/tsan-check), with no report in
 * this code.
 */

#ifndef RACEWATCH_ENGINE_H
#define RACEWATCH_ENGINE_H

#include "core.h"

#ifdef Py_GIL_DISABLED
#define RW_FT_BEGIN(op) Py_BEGIN_CRITICAL_SECTION(op)
#define RW_FT_END() Py_END_CRITICAL_SECTION()
#else
#define RW_FT_BEGIN(op) {
#define RW_FT_END() }
#endif

/* Freed objects of one exact type (Access, Loc), kept for the next record: a new-epoch
 * access makes one or two and lets one or two go.  GIL builds only (the GIL guards the
 * list); free-threaded builds allocate each. */
#define RW_FREELIST_SIZE 512

typedef struct {
    int n;
    PyObject *items[RW_FREELIST_SIZE];
} rw_freelist;

/* An object of ``type`` from the list (refcount 1, its fields as it was freed), or NULL. */
static inline PyObject *
rw_freelist_pop(rw_freelist *fl, PyTypeObject *type)
{
#ifndef Py_GIL_DISABLED
    if (fl->n > 0) {
        return PyObject_Init(fl->items[--fl->n], type);
    }
#else
    (void)fl;
    (void)type;
#endif
    return NULL;
}

/* Keep ``op`` (being deallocated, its references released), or 0: free it as usual. */
static inline int
rw_freelist_push(rw_freelist *fl, PyObject *op)
{
#ifndef Py_GIL_DISABLED
    if (fl->n < RW_FREELIST_SIZE) {
        fl->items[fl->n++] = op;
        return 1;
    }
#else
    (void)fl;
    (void)op;
#endif
    return 0;
}

/* A new reference to an object field of SETTINGS (None for NULL). */
static inline PyObject *
settings_field(PyObject **field)
{
    PyObject *value;
    RW_FT_BEGIN(rw_settings);
    value = *field != NULL ? *field : Py_None;
    Py_INCREF(value);
    RW_FT_END();
    return value;
}

static inline long long
vc_entry(PyObject *vc, Py_ssize_t slot)
{
    if (slot >= PyList_GET_SIZE(vc)) {
        return 0;
    }
    long long v = PyLong_AsLongLong(PyList_GET_ITEM(vc, slot));
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return v;
}

/* True when ``rec`` happened before the thread whose clock is ``vc``. */
static inline int
covered(const RW_Access *rec, PyObject *vc)
{
    return rec->slot < PyList_GET_SIZE(vc) && rec->clock <= vc_entry(vc, rec->slot);
}

static inline int
same_epoch(const RW_Access *rec, const RW_ThreadState *ts)
{
    return rec != NULL && rec->clock == ts->clock && rec->slot == ts->slot;
}

/* One slow-path update: the conflicts it found and what it let go of (conflict.c). */
typedef struct {
    RW_Access *prev;
    PyObject *key;           /* NULL: the keys location */
    PyObject *previous_key;  /* NULL: None */
    PyObject *current_key;
    RW_Access *prior;        /* NULL: None (Conflict.current_prior) */
    int on_keys;
} rw_pending;

typedef struct {
    rw_pending *items;
    Py_ssize_t n, cap;
    PyObject **trash;        /* keys dropped by the update, released after it */
    Py_ssize_t tn, tcap;
    rw_pending items_small[4];
    PyObject *trash_small[4];
} rw_batch;

/* -- read sets (access.c) --------------------------------------------------------------- */

RW_Access *rw_access_new(RW_ThreadState *ts, PyObject *stack, PyObject *op, int write);
int rw_readmap_append(rw_readmap **pmap, RW_Access *rec);
void rw_rs_clear(RW_ReadSet *rs);
int rw_rs_add(RW_ReadSet *rs, RW_Access *cur, PyObject *vc);
PyObject *rw_rs_as_object(const RW_ReadSet *rs);
int rw_rs_from_object(RW_ReadSet *rs, PyObject *value);
int rw_rs_copy(RW_ReadSet *to, const RW_ReadSet *from);

/* Slot maps: per thread slot, an access and the key it touched (access.c). */
int rw_slotmap_set(rw_slot_map *map, RW_Access *rec, PyObject *key, rw_batch *b);
void rw_slotmap_drop_covered(rw_slot_map *map, PyObject *vc, Py_ssize_t keep, rw_batch *b);
void rw_slotmap_clear(rw_slot_map *map);
void rw_slotmap_take(rw_slot_map *to, rw_slot_map *from);
PyObject *rw_slotmap_as_object(const rw_slot_map *map);

/* _same_epoch_read: the set holds a read of ``ts``'s slot in its current epoch. */
static inline int
rs_same_epoch(const RW_ReadSet *rs, const RW_ThreadState *ts)
{
    if (rs->more != NULL) {
        for (Py_ssize_t i = 0; i < rs->more->n; i++) {
            if (rs->more->items[i]->slot == ts->slot) {
                return rs->more->items[i]->clock == ts->clock;
            }
        }
        return 0;
    }
    if (rs->a == NULL) {
        return 0;
    }
    if (rs->b == NULL) {
        return same_epoch(rs->a, ts);
    }
    if (rs->a->slot == ts->slot) {
        return rs->a->clock == ts->clock;
    }
    if (rs->b->slot == ts->slot) {
        return rs->b->clock == ts->clock;
    }
    return 0;
}

/* _own_read: the read in the set that ``cur``'s thread made in ``cur``'s epoch, or NULL. */
static inline RW_Access *
rs_own_read(const RW_ReadSet *rs, const RW_Access *cur)
{
    RW_Access *a = NULL;
    if (rs->more != NULL) {
        for (Py_ssize_t i = 0; i < rs->more->n; i++) {
            if (rs->more->items[i]->slot == cur->slot) {
                a = rs->more->items[i];
                break;
            }
        }
    }
    else if (rs->a != NULL && rs->a->slot == cur->slot) {
        a = rs->a;
    }
    else if (rs->b != NULL && rs->b->slot == cur->slot) {
        a = rs->b;
    }
    return a != NULL && a->clock == cur->clock ? a : NULL;
}

static inline Py_ssize_t
rs_count(const RW_ReadSet *rs)
{
    if (rs->more != NULL) {
        return rs->more->n;
    }
    return (rs->a != NULL) + (rs->b != NULL);
}

static inline RW_Access *
rs_item(const RW_ReadSet *rs, Py_ssize_t i)
{
    if (rs->more != NULL) {
        return rs->more->items[i];
    }
    return i == 0 ? rs->a : rs->b;
}

/* -- locations (location.c) ------------------------------------------------------------- */

RW_KeysLoc *rw_keysloc_new(void);
RW_Loc *rw_loc_shared(RW_ThreadState *ts, RW_Access *w, RW_Access *a, RW_Access *b);
RW_Loc *rw_loc_with_read(RW_ThreadState *ts, RW_Loc *loc, RW_Access *cur, PyObject *vc);

static inline RW_Loc *
as_loc(PyObject *v)
{
    return (Py_IS_TYPE(v, &RW_LocType)) ? (RW_Loc *)v : NULL;
}

/* Whether a location's record ``v`` (an Access, its write alone; or a Loc) holds a read or
 * a write of ``ts`` in its current epoch: a read by ``ts`` adds nothing to it then. */
static inline int
rw_read_adds_nothing(PyObject *v, const RW_ThreadState *ts)
{
    if (Py_IS_TYPE(v, &RW_AccessType)) {
        return same_epoch((RW_Access *)v, ts);   /* a read after its own write */
    }
    RW_Loc *loc = as_loc(v);
    return loc != NULL && (rs_same_epoch(&loc->r, ts) || same_epoch(loc->w, ts));
}

/* -- one slow-path update: the conflicts it found and what it let go of (conflict.c) ----- */

void rw_batch_init(rw_batch *b);
void rw_batch_free(rw_batch *b);
int rw_batch_add(rw_batch *b, RW_Access *prev, PyObject *key, int on_keys,
                 PyObject *previous_key, PyObject *current_key);
void rw_batch_prior(rw_batch *b, Py_ssize_t from, RW_Access *prior);
int rw_batch_trash(rw_batch *b, PyObject *obj);
int rw_rs_unordered(const RW_ReadSet *rs, PyObject *vc, rw_batch *b, PyObject *key,
                    int on_keys, PyObject *previous_key, PyObject *current_key);
int rw_emit(RW_Shadow *sh, RW_Access *cur, rw_batch *b);

/* -- the rules (rules.c, rules_keys.c) --------------------------------------------------- */

/* The record of the current thread's access ``op`` (a new reference), or NULL. */
RW_Access *rw_make_access(RW_ThreadState *ts, PyObject *op, int write);
/* A write (clear(), or an insert or delete with report_key_order) and an update (an insert
 * or delete) of the keys location, checked against what it holds, then recorded. */
int rw_write_keys(RW_Shadow *sh, PyObject *key, RW_Access *cur, PyObject *vc, rw_batch *b);
int rw_update_keys(RW_Shadow *sh, PyObject *key, RW_Access *cur, PyObject *vc, rw_batch *b);

/* One access checked on the slow path: its record and the batch of what its update finds.
 * rw_slow_begin makes the record and raises the thread's ``busy`` (the caller then updates
 * the shadow in its critical section); rw_slow_end hands the conflicts to the sink when the
 * update (``rc``) succeeded, lowers ``busy`` and lets go of the record and the batch. */
typedef struct {
    RW_Access *cur;
    rw_batch b;
} rw_slow;

static inline int
rw_slow_begin(rw_slow *s, RW_ThreadState *ts, PyObject *op, int write)
{
    s->cur = rw_make_access(ts, op, write);
    if (s->cur == NULL) {
        return -1;
    }
    rw_batch_init(&s->b);
    ts->busy++;
    return 0;
}

static inline int
rw_slow_end(rw_slow *s, RW_ThreadState *ts, RW_Shadow *sh, int rc)
{
    if (rc == 0) {
        rc = rw_emit(sh, s->cur, &s->b);
    }
    ts->busy--;
    rw_batch_free(&s->b);
    Py_DECREF(s->cur);
    return rc;
}

/* -- the reads that found an attribute or a global unset (object.c) --------------------- */

int rw_saw_unset(RW_Shadow *sh, PyObject *name);

/* -- a key's location (rules.c, absent.c) ------------------------------------------------- */

/* A key whose hash and equality run no Python code and whose lifetime nobody can observe
 * (no weak reference, no finalizer): a str or an int. */
static inline int
plain_key(PyObject *key)
{
    return PyUnicode_CheckExact(key) || PyLong_CheckExact(key);
}

#ifdef Py_GIL_DISABLED
/* Free-threaded builds: whether ``key``'s location is looked up in ``locs`` without a lock
 * (loc_lookup) and, when it has none, put there without the shadow's lock (read_unseen): a
 * plain key of a dict, list or set. */
static inline int
unlocked_key(const RW_Shadow *sh, PyObject *key)
{
    return sh->kind_id <= RW_KIND_SET && plain_key(key);
}
#endif

/* A key's location in ``locs`` (``sh``'s): 1 (a new reference in *pv), 0 (none: a key that
 * prefill put there holds None) or -1 (error).  On a free-threaded build a container's
 * location of a str or int key (whose hash runs no code: a str keeps it) is looked up
 * without the dict's lock, as the interpreter reads a dict that other threads change: a
 * stored Loc never changes there (loc_exclusive), and the lock of a container that every
 * thread's accesses look in was taken by each access in turn, a cache line passed from
 * core to core every time, and spun on (a list's items are int keys).  Other keys keep the
 * lock, and the hash computed once (PyDict_GetItemRef computes it again: a key's __hash__
 * would run twice); an object's attributes keep it too: its few names are in a small dict
 * of its own (lru_objects ran slower either way). */
static inline int
loc_lookup(RW_Shadow *sh, PyObject *locs, PyObject *key, Py_hash_t hash, PyObject **pv)
{
#ifdef Py_GIL_DISABLED
    int found = unlocked_key(sh, key) ? PyDict_GetItemRef(locs, key, pv)
                                      : rw_dict_getref_kh(locs, key, hash, pv);
#else
    (void)sh;
    int found = rw_dict_getref_kh(locs, key, hash, pv);
#endif
    if (found > 0 && *pv == Py_None) {
        Py_CLEAR(*pv);
        return 0;
    }
    return found;
}

/* -- the thread's last read, for a write's pattern (rules.c) ------------------------------ */


/* Remember ``cur``, a read of ``key`` of ``sh`` just recorded: shadow.py's _remember_read. */
static inline void
remember_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *key, RW_Access *cur)
{
    if (plain_key(key)) {
        ts->last_read_serial = sh->serial;
        Py_XSETREF(ts->last_read_key, Py_NewRef(key));
        Py_XSETREF(ts->last_read, (RW_Access *)Py_NewRef(cur));
    }
}

/* The thread's last read when it is of ``key`` of ``sh`` in ``cur``'s epoch (borrowed), or
 * NULL: shadow.py's _remembered_read.  A write's own read, when the location no longer
 * holds it (another thread's write replaced its reads): the pattern of a lost update or a
 * check-then-act whose read another write followed. */
static inline RW_Access *
remembered_read(const RW_ThreadState *ts, const RW_Shadow *sh, PyObject *key,
                const RW_Access *cur)
{
    RW_Access *rec = ts->last_read;
    PyObject *seen = ts->last_read_key;
    if (rec == NULL || ts->last_read_serial != sh->serial || rec->clock != cur->clock
            || rec->slot != cur->slot) {
        return NULL;
    }
    if (seen == key) {
        return rec;
    }
    if (!plain_key(key) || Py_TYPE(seen) != Py_TYPE(key)) {
        return NULL;
    }
    int eq = PyObject_RichCompareBool(seen, key, Py_EQ);   /* str's or int's: no Python code */
    if (eq < 0) {
        PyErr_Clear();
        return NULL;
    }
    return eq ? rec : NULL;
}

/* -- free-threaded builds: each thread's records of lookups of absent keys (absent.c) ---- */

#ifdef Py_GIL_DISABLED
typedef struct rw_absent rw_absent;
/* Whether some thread has a table of records of absent keys for ``sh``. */
static inline int
rw_has_absent(RW_Shadow *sh)
{
    return __atomic_load_n(&sh->absent, __ATOMIC_ACQUIRE) != NULL;
}
/* read_unseen's way for a key dict ``d`` does not hold: ``made`` recorded, then ``locs``
 * looked at again.  1: done; 0: a write's location came meanwhile and the record was taken
 * back, for the locked way to check; -1: an error. */
int rw_absent_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key,
                   Py_hash_t hash, PyObject *made);
/* A write ``cur`` of ``key``, its location in ``locs`` already: every thread's record of a
 * lookup of the key taken out and checked as the location's reads; *own gets this
 * thread's read among them (a new reference) when it has none yet. */
int rw_absent_check_write(RW_Shadow *sh, PyObject *key, RW_Access *cur, PyObject *vc,
                          rw_batch *b, RW_Access **own);
int rw_absent_traverse(RW_Shadow *sh, visitproc visit, void *arg);
void rw_absent_forget(RW_Shadow *sh);
void rw_absent_clear(RW_Shadow *sh);
#endif

/* -- the sweep of deleted keys (sweep.c) ------------------------------------------------ */

int rw_sweep_ready(void);
int rw_sweep(RW_Shadow *sh, PyObject *d);
PyObject *rw_keys_now(RW_Shadow *sh, PyObject *d);
/* The minimum clocks of the registry (shadow._sweep's ``minc``), in a new array of *n
 * (PyMem_Free it), or NULL with an exception set. */
long long *rw_min_clocks(Py_ssize_t *n);
/* Whether every access a location's record ``v`` holds is ordered before every thread's
 * present (``minc``, of *n): then forgetting it loses no race.  (Inline, as the two that
 * follow: the sweep calls them for every location it walks, sweep.c and absent.c.) */
static inline int
rw_ordered_before(PyObject *v, const long long *minc, Py_ssize_t n)
{
#define ENTRY(slot) ((slot) < n ? minc[(slot)] : 0)
    if (Py_IS_TYPE(v, &RW_AccessType)) {
        RW_Access *rec = (RW_Access *)v;
        return rec->clock <= ENTRY(rec->slot);
    }
    RW_Loc *loc = as_loc(v);
    if (loc == NULL) {
        return 1;
    }
    if (loc->w != NULL && loc->w->clock > ENTRY(loc->w->slot)) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < rs_count(&loc->r); i++) {
        RW_Access *rec = rs_item(&loc->r, i);
        if (rec->clock > ENTRY(rec->slot)) {
            return 0;
        }
    }
    return 1;
#undef ENTRY
}

/* Forget ``key``'s location if it is still ``loc`` (shadow._forget): 1 when it went; 0 when
 * it had gone, or Python code that ran since the snapshot (a key's __eq__) replaced it,
 * and then the new one is put back.  One pop, not a lookup and a delete: each finds the
 * key again (a third of the sweep's cost per key). */
static inline int
rw_forget_location(PyObject *locs, PyObject *key, PyObject *loc)
{
    PyObject *now;
    int found = RW_DictPop(locs, key, &now);
    if (found <= 0) {
        return found;   /* (0: gone meanwhile) */
    }
    int rc = now == loc ? 1 : PyDict_SetItem(locs, key, now);
    Py_DECREF(now);
    return rc;
}

/* Whether a location holds only reads: a key looked up while absent, never written (an
 * Access is a write, the delete of a deleted key). */
static inline int
rw_only_lookups(PyObject *v)
{
    RW_Loc *loc = as_loc(v);
    return loc != NULL && loc->w == NULL;
}

/* Count, in the summary, the locations a sweep or a trim let go that were still unordered
 * (``unordered``), of which ``lookups`` held only lookups of absent keys. */
static inline void
rw_count_forgotten(Py_ssize_t unordered, Py_ssize_t lookups)
{
    RW_ADD(&rw_counters.forgotten_keys, unordered - lookups);
    RW_ADD(&rw_counters.forgotten_lookups, lookups);
}

/* Whether the locations of keys that left the container are forgotten in time: for the
 * containers whose keys come and go (an object's attributes, a module's globals do not). */
static inline int
rw_kind_sweeps(const RW_Shadow *sh)
{
    return sh->kind_id <= RW_KIND_SET;
}

#endif /* RACEWATCH_ENGINE_H */
