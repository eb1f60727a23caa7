/* Shadow state of a tracked dict and the FastTrack rules that check each access.
 *
 * The reference is racewatch/runtime/shadow.py: the same types (Access, Loc, KeysLoc,
 * Shadow, Conflict), the same rules in the same order, the same reports.  Some
 * representations differ, invisibly to the rest of racewatch:
 *
 * * a Loc never changes once it is stored in ``locs``: a read stores a new one instead of
 *   changing the old one in place, and identical ones are shared (a thread that reads a
 *   million keys in one epoch leaves them one Loc, where the reference makes a million);
 * * a read set shared by two threads is kept in the Loc itself (the reference makes a
 *   {slot: Access} dict, which is what ``Loc.r`` still shows);
 * * the keys location is part of the Shadow (``Shadow.keys`` shows a KeysLoc copy), and
 *   the per-slot write summary (``wsum``) is an array.
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
 * four threads hammer one dict; the corpus covers every primitive).  NOT TESTED:
 * free-threaded builds, none of which could be installed where racewatch is developed.  The
 * Py_GIL_DISABLED code is written against CPython 3.13's critical-section and PyMutex API,
 * and compiles without a warning against 3.13's headers with Py_GIL_DISABLED defined (not
 * a free-threaded interpreter's own build): it has never run.
 */

#include "core.h"

PyObject *rw_ops[RW_OP_COUNT];
static const char *op_names[RW_OP_COUNT] = {
    "getitem", "get", "contains", "setitem", "delitem", "setdefault", "pop", "popitem",
    "update", "ior", "clear", "len", "iter", "reversed", "keys", "values", "items", "eq",
    "ne", "reduce", "deepcopy", "copy", "or", "missing", "repr",
};

static PyObject *str_dict, *str_defaultdict, *str_check, *str_min_clock;
static long long serial_counter = 0;

#ifdef Py_GIL_DISABLED
#define RW_FT_BEGIN(op) Py_BEGIN_CRITICAL_SECTION(op)
#define RW_FT_END() Py_END_CRITICAL_SECTION()
#else
#define RW_FT_BEGIN(op) {
#define RW_FT_END() }
#endif

/* A new reference to an object field of SETTINGS (None for NULL). */
static PyObject *
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

/* -- Access -------------------------------------------------------------------------------- */

static RW_Access *
access_new(RW_ThreadState *ts, PyObject *stack, PyObject *op, int write)
{
    /* ``stack`` is a new reference, passed on to the record. */
    RW_Access *rec = PyObject_New(RW_Access, &RW_AccessType);
    if (rec == NULL) {
        Py_DECREF(stack);
        return NULL;
    }
    rec->time = rw_monotonic_ns();
    rec->slot = ts->slot;
    rec->clock = ts->clock;
    rec->thread = Py_NewRef(ts->info);
    rec->stack = stack;
    rec->op = Py_NewRef(op);
    rec->write = (char)(write != 0);
    rec->locks = Py_NewRef(ts->held);
    return rec;
}

static PyObject *
access_tp_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"ts", "stack", "op", "write", NULL};
    PyObject *ts, *stack, *op;
    int write;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OUp:Access", kwlist, &RW_ThreadStateType,
                                     &ts, &stack, &op, &write)) {
        return NULL;
    }
    return (PyObject *)access_new((RW_ThreadState *)ts, Py_NewRef(stack), op, write);
}

static void
access_dealloc(RW_Access *rec)
{
    Py_XDECREF(rec->thread);
    Py_XDECREF(rec->stack);
    Py_XDECREF(rec->op);
    Py_XDECREF(rec->locks);
    Py_TYPE(rec)->tp_free((PyObject *)rec);
}

static PyObject *
access_repr(RW_Access *rec)
{
    return PyUnicode_FromFormat("<Access %U %s slot=%zd clock=%lld>", rec->op,
                                rec->write ? "write" : "read", rec->slot, rec->clock);
}

static PyMemberDef access_members[] = {
    {"slot", T_PYSSIZET, offsetof(RW_Access, slot), READONLY, NULL},
    {"clock", T_LONGLONG, offsetof(RW_Access, clock), READONLY, NULL},
    {"time", T_LONGLONG, offsetof(RW_Access, time), READONLY,
     "time.monotonic_ns() of the first access this record stands for"},
    {"thread", T_OBJECT, offsetof(RW_Access, thread), READONLY, "ThreadInfo"},
    {"stack", T_OBJECT, offsetof(RW_Access, stack), READONLY, NULL},
    {"op", T_OBJECT, offsetof(RW_Access, op), READONLY, NULL},
    {"write", T_BOOL, offsetof(RW_Access, write), READONLY, NULL},
    {"locks", T_OBJECT, offsetof(RW_Access, locks), READONLY, NULL},
    {NULL}
};

PyTypeObject RW_AccessType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Access",
    .tp_doc = "One recorded access: its epoch, where it happened, what it did, the locks held.",
    .tp_basicsize = sizeof(RW_Access),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = access_tp_new,
    .tp_dealloc = (destructor)access_dealloc,
    .tp_repr = (reprfunc)access_repr,
    .tp_members = access_members,
};

/* -- read sets ----------------------------------------------------------------------------- */

static int
readmap_append(rw_readmap **pmap, RW_Access *rec)
{
    rw_readmap *map = *pmap;
    if (map == NULL || map->n == map->cap) {
        Py_ssize_t cap = map == NULL ? 4 : map->cap * 2;
        rw_readmap *grown = PyMem_Realloc(map, sizeof(rw_readmap)
                                          + (size_t)(cap - 1) * sizeof(RW_Access *));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        if (map == NULL) {
            grown->n = 0;
        }
        grown->cap = cap;
        *pmap = map = grown;
    }
    map->items[map->n++] = (RW_Access *)Py_NewRef(rec);
    return 0;
}

static void
rs_clear(RW_ReadSet *rs)
{
    Py_CLEAR(rs->a);
    Py_CLEAR(rs->b);
    if (rs->more != NULL) {
        for (Py_ssize_t i = 0; i < rs->more->n; i++) {
            Py_DECREF(rs->more->items[i]);
        }
        PyMem_Free(rs->more);
        rs->more = NULL;
    }
}

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

/* _add_read: the set with ``cur`` added (FastTrack's exclusive/shared read rules). */
static int
rs_add(RW_ReadSet *rs, RW_Access *cur, PyObject *vc)
{
    if (rs->more != NULL) {
        for (Py_ssize_t i = 0; i < rs->more->n; i++) {
            if (rs->more->items[i]->slot == cur->slot) {
                Py_SETREF(rs->more->items[i], (RW_Access *)Py_NewRef(cur));
                return 0;
            }
        }
        return readmap_append(&rs->more, cur);
    }
    if (rs->a == NULL) {
        rs->a = (RW_Access *)Py_NewRef(cur);
        return 0;
    }
    if (rs->b == NULL) {
        if (rs->a->slot == cur->slot || covered(rs->a, vc)) {
            Py_SETREF(rs->a, (RW_Access *)Py_NewRef(cur));
        }
        else {
            rs->b = (RW_Access *)Py_NewRef(cur);
        }
        return 0;
    }
    if (rs->a->slot == cur->slot) {
        Py_SETREF(rs->a, (RW_Access *)Py_NewRef(cur));
        return 0;
    }
    if (rs->b->slot == cur->slot) {
        Py_SETREF(rs->b, (RW_Access *)Py_NewRef(cur));
        return 0;
    }
    rw_readmap *map = NULL;
    if (readmap_append(&map, rs->a) < 0 || readmap_append(&map, rs->b) < 0
            || readmap_append(&map, cur) < 0) {
        if (map != NULL) {
            for (Py_ssize_t i = 0; i < map->n; i++) {
                Py_DECREF(map->items[i]);
            }
            PyMem_Free(map);
        }
        return -1;
    }
    Py_CLEAR(rs->a);
    Py_CLEAR(rs->b);
    rs->more = map;
    return 0;
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

/* What the reference shows for a read set: None, an Access or a {slot: Access} dict. */
static PyObject *
rs_as_object(const RW_ReadSet *rs)
{
    if (rs->a == NULL && rs->more == NULL) {
        Py_RETURN_NONE;
    }
    if (rs->more == NULL && rs->b == NULL) {
        return Py_NewRef(rs->a);
    }
    PyObject *result = PyDict_New();
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < rs_count(rs); i++) {
        RW_Access *rec = rs_item(rs, i);
        PyObject *slot = PyLong_FromSsize_t(rec->slot);
        if (slot == NULL || PyDict_SetItem(result, slot, (PyObject *)rec) < 0) {
            Py_XDECREF(slot);
            Py_DECREF(result);
            return NULL;
        }
        Py_DECREF(slot);
    }
    return result;
}

static int
rs_from_object(RW_ReadSet *rs, PyObject *value)
{
    if (value == Py_None) {
        return 0;
    }
    if (Py_IS_TYPE(value, &RW_AccessType)) {
        rs->a = (RW_Access *)Py_NewRef(value);
        return 0;
    }
    if (!PyDict_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "a read set is None, an Access or {slot: Access}");
        return -1;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(value, &pos, &k, &v)) {
        if (!Py_IS_TYPE(v, &RW_AccessType)) {
            PyErr_SetString(PyExc_TypeError, "a read set holds Access records");
            return -1;
        }
        if (readmap_append(&rs->more, (RW_Access *)v) < 0) {
            return -1;
        }
    }
    if (rs->more != NULL && rs->more->n <= 2) {
        rw_readmap *map = rs->more;
        rs->more = NULL;
        rs->a = map->items[0];
        rs->b = map->n == 2 ? map->items[1] : NULL;
        PyMem_Free(map);
    }
    return 0;
}

/* -- Loc and KeysLoc ----------------------------------------------------------------------- */

static RW_Loc *
loc_new(RW_Access *w, RW_Access *r)
{
    RW_Loc *loc = PyObject_New(RW_Loc, &RW_LocType);
    if (loc == NULL) {
        return NULL;
    }
    loc->w = (RW_Access *)Py_XNewRef(w);
    loc->r.a = (RW_Access *)Py_XNewRef(r);
    loc->r.b = NULL;
    loc->r.more = NULL;
    return loc;
}

static PyObject *
loc_tp_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"w", "r", NULL};
    PyObject *w, *r;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO:Loc", kwlist, &w, &r)) {
        return NULL;
    }
    if (w != Py_None && !Py_IS_TYPE(w, &RW_AccessType)) {
        PyErr_SetString(PyExc_TypeError, "Loc: w is an Access or None");
        return NULL;
    }
    RW_Loc *loc = loc_new(w == Py_None ? NULL : (RW_Access *)w, NULL);
    if (loc != NULL && rs_from_object(&loc->r, r) < 0) {
        Py_CLEAR(loc);
    }
    return (PyObject *)loc;
}

static void
loc_dealloc(RW_Loc *loc)
{
    Py_XDECREF(loc->w);
    rs_clear(&loc->r);
    Py_TYPE(loc)->tp_free((PyObject *)loc);
}

static PyObject *
loc_get_w(RW_Loc *loc, void *Py_UNUSED(closure))
{
    return Py_NewRef(loc->w != NULL ? (PyObject *)loc->w : Py_None);
}

static PyObject *
loc_get_r(RW_Loc *loc, void *Py_UNUSED(closure))
{
    return rs_as_object(&loc->r);
}

static PyGetSetDef loc_getset[] = {
    {"w", (getter)loc_get_w, NULL, "the last write, or None", NULL},
    {"r", (getter)loc_get_r, NULL, "the reads since: None, an Access or {slot: Access}", NULL},
    {NULL}
};

PyTypeObject RW_LocType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Loc",
    .tp_doc = "A location that has been read: its last write (or None) and its reads since.",
    .tp_basicsize = sizeof(RW_Loc),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_new = loc_tp_new,
    .tp_dealloc = (destructor)loc_dealloc,
    .tp_getset = loc_getset,
};

static RW_KeysLoc *
keysloc_new(void)
{
    RW_KeysLoc *keys = PyObject_GC_New(RW_KeysLoc, &RW_KeysLocType);
    if (keys == NULL) {
        return NULL;
    }
    keys->base.w = NULL;
    memset(&keys->base.r, 0, sizeof(RW_ReadSet));
    keys->wkey = Py_NewRef(Py_None);
    PyObject_GC_Track(keys);
    return keys;
}

static PyObject *
keysloc_tp_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwds)
{
    if (!PyArg_ParseTuple(args, ":KeysLoc") || (kwds != NULL && PyDict_GET_SIZE(kwds))) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "KeysLoc() takes no arguments");
        }
        return NULL;
    }
    return (PyObject *)keysloc_new();
}

static int
keysloc_traverse(RW_KeysLoc *keys, visitproc visit, void *arg)
{
    Py_VISIT(keys->wkey);
    return 0;
}

static int
keysloc_clear(RW_KeysLoc *keys)
{
    Py_CLEAR(keys->wkey);
    return 0;
}

static void
keysloc_dealloc(RW_KeysLoc *keys)
{
    PyObject_GC_UnTrack(keys);
    Py_XDECREF(keys->base.w);
    rs_clear(&keys->base.r);
    Py_XDECREF(keys->wkey);
    Py_TYPE(keys)->tp_free((PyObject *)keys);
}

static PyMemberDef keysloc_members[] = {
    {"wkey", T_OBJECT, offsetof(RW_KeysLoc, wkey), READONLY,
     "the key its last write inserted or deleted, or None"},
    {NULL}
};

PyTypeObject RW_KeysLocType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.KeysLoc",
    .tp_doc = "The keys location; also remembers which key its last write inserted or deleted.",
    .tp_basicsize = sizeof(RW_KeysLoc),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_base = &RW_LocType,
    .tp_new = keysloc_tp_new,
    .tp_dealloc = (destructor)keysloc_dealloc,
    .tp_traverse = (traverseproc)keysloc_traverse,
    .tp_clear = (inquiry)keysloc_clear,
    .tp_members = keysloc_members,
};

/* -- Shadow ------------------------------------------------------------------------------- */

static void
wsum_release(rw_wsum_entry *wsum, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(wsum[i].rec);
        Py_DECREF(wsum[i].key);
    }
    PyMem_Free(wsum);
}

static RW_Shadow *
shadow_new(PyObject *kind, PyObject *created_at)
{
    PyObject *locs = PyDict_New();
    RW_Shadow *sh = locs != NULL ? PyObject_GC_New(RW_Shadow, &RW_ShadowType) : NULL;
    if (sh == NULL) {
        Py_XDECREF(locs);
        return NULL;
    }
    sh->kind = Py_NewRef(kind);
    sh->created_at = Py_NewRef(created_at);
    sh->locs = locs;
    sh->keys_w = NULL;
    memset(&sh->keys_r, 0, sizeof(RW_ReadSet));
    sh->keys_wkey = Py_NewRef(Py_None);
    memset(&sh->allr, 0, sizeof(RW_ReadSet));
    sh->wsum = NULL;
    sh->wsum_n = sh->wsum_cap = 0;
    sh->sweep_at = 1024;
    sh->prefilled = 0;
#ifdef Py_GIL_DISABLED
    sh->serial = __atomic_add_fetch(&serial_counter, 1, __ATOMIC_RELAXED);
#else
    sh->serial = ++serial_counter;
#endif
    sh->generation = rw_settings->generation;
    PyObject_GC_Track(sh);
    return sh;
}

static PyObject *
shadow_tp_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"kind", "created_at", NULL};
    PyObject *kind, *created_at;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "UO:Shadow", kwlist, &kind, &created_at)) {
        return NULL;
    }
    return (PyObject *)shadow_new(kind, created_at);
}

static int
shadow_traverse(RW_Shadow *sh, visitproc visit, void *arg)
{
    Py_VISIT(sh->kind);
    Py_VISIT(sh->created_at);
    Py_VISIT(sh->locs);
    Py_VISIT(sh->keys_wkey);
    for (Py_ssize_t i = 0; i < sh->wsum_n; i++) {
        Py_VISIT(sh->wsum[i].key);
    }
    return 0;
}

static int
shadow_clear(RW_Shadow *sh)
{
    rw_wsum_entry *wsum = sh->wsum;
    Py_ssize_t n = sh->wsum_n;
    sh->wsum = NULL;
    sh->wsum_n = sh->wsum_cap = 0;
    wsum_release(wsum, n);
    rs_clear(&sh->allr);
    rs_clear(&sh->keys_r);
    Py_CLEAR(sh->keys_w);
    Py_CLEAR(sh->keys_wkey);
    Py_CLEAR(sh->locs);
    Py_CLEAR(sh->kind);
    Py_CLEAR(sh->created_at);
    return 0;
}

static void
shadow_dealloc(RW_Shadow *sh)
{
    PyObject_GC_UnTrack(sh);
    Py_TRASHCAN_BEGIN(sh, shadow_dealloc)
    shadow_clear(sh);
    Py_TYPE(sh)->tp_free((PyObject *)sh);
    Py_TRASHCAN_END
}

/* forget(): start over with no history (a shadow inherited across a fork). */
static int
shadow_forget(RW_Shadow *sh, int only_if_stale)
{
    PyObject *locs = PyDict_New();
    if (locs == NULL) {
        return -1;
    }
    PyObject *old_locs = NULL, *old_wkey = NULL;
    RW_Access *old_keys_w = NULL;
    RW_ReadSet old_keys_r = {NULL, NULL, NULL};
    RW_ReadSet old_allr = {NULL, NULL, NULL};
    rw_wsum_entry *old_wsum = NULL;
    Py_ssize_t old_n = 0;
    Py_BEGIN_CRITICAL_SECTION(sh);
    if (!only_if_stale || sh->generation != rw_settings->generation) {
        old_locs = sh->locs;
        sh->locs = locs;
        locs = NULL;
        old_keys_w = sh->keys_w;
        sh->keys_w = NULL;
        old_keys_r = sh->keys_r;
        memset(&sh->keys_r, 0, sizeof(RW_ReadSet));
        old_wkey = sh->keys_wkey;
        sh->keys_wkey = Py_NewRef(Py_None);
        old_allr = sh->allr;
        memset(&sh->allr, 0, sizeof(RW_ReadSet));
        old_wsum = sh->wsum;
        old_n = sh->wsum_n;
        sh->wsum = NULL;
        sh->wsum_n = sh->wsum_cap = 0;
        sh->sweep_at = 1024;
        sh->prefilled = 0;
        sh->generation = rw_settings->generation;
    }
    Py_END_CRITICAL_SECTION();
    /* Released once the shadow is whole again: dropping keys may run their finalizers. */
    Py_XDECREF(locs);
    rs_clear(&old_allr);
    rs_clear(&old_keys_r);
    Py_XDECREF(old_keys_w);
    wsum_release(old_wsum, old_n);
    Py_XDECREF(old_wkey);
    Py_XDECREF(old_locs);
    return 0;
}

static PyObject *
shadow_forget_method(RW_Shadow *sh, PyObject *Py_UNUSED(ignored))
{
    if (shadow_forget(sh, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
shadow_get_allr(RW_Shadow *sh, void *Py_UNUSED(closure))
{
    return rs_as_object(&sh->allr);
}

static int
rs_copy(RW_ReadSet *to, const RW_ReadSet *from)
{
    to->a = (RW_Access *)Py_XNewRef(from->a);
    to->b = (RW_Access *)Py_XNewRef(from->b);
    to->more = NULL;
    for (Py_ssize_t i = 0; from->more != NULL && i < from->more->n; i++) {
        if (readmap_append(&to->more, from->more->items[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The keys location lives in the shadow itself; Python sees a KeysLoc copy of it. */
static PyObject *
shadow_get_keys(RW_Shadow *sh, void *Py_UNUSED(closure))
{
    RW_KeysLoc *keys = keysloc_new();
    if (keys == NULL) {
        return NULL;
    }
    int rc;
    RW_FT_BEGIN(sh);
    keys->base.w = (RW_Access *)Py_XNewRef(sh->keys_w);
    Py_SETREF(keys->wkey, Py_NewRef(sh->keys_wkey));
    rc = rs_copy(&keys->base.r, &sh->keys_r);
    RW_FT_END();
    if (rc < 0) {
        Py_DECREF(keys);
        return NULL;
    }
    return (PyObject *)keys;
}

static PyObject *
shadow_get_wsum(RW_Shadow *sh, void *Py_UNUSED(closure))
{
    PyObject *result = PyDict_New();
    for (Py_ssize_t i = 0; result != NULL && i < sh->wsum_n; i++) {
        PyObject *slot = PyLong_FromSsize_t(sh->wsum[i].slot);
        PyObject *pair = PyTuple_Pack(2, (PyObject *)sh->wsum[i].rec, sh->wsum[i].key);
        if (slot == NULL || pair == NULL || PyDict_SetItem(result, slot, pair) < 0) {
            Py_CLEAR(result);
        }
        Py_XDECREF(slot);
        Py_XDECREF(pair);
    }
    return result;
}

static PyMethodDef shadow_methods[] = {
    {"forget", (PyCFunction)shadow_forget_method, METH_NOARGS,
     "Start over with no history (a new shadow, or one inherited across a fork)."},
    {NULL}
};

static PyMemberDef shadow_members[] = {
    {"kind", T_OBJECT, offsetof(RW_Shadow, kind), READONLY, "\"dict\" or \"defaultdict\""},
    {"created_at", T_OBJECT, offsetof(RW_Shadow, created_at), READONLY, NULL},
    {"locs", T_OBJECT, offsetof(RW_Shadow, locs), READONLY, NULL},
    {"serial", T_LONGLONG, offsetof(RW_Shadow, serial), READONLY, NULL},
    {"sweep_at", T_PYSSIZET, offsetof(RW_Shadow, sweep_at), 0, NULL},
    {"generation", T_LONGLONG, offsetof(RW_Shadow, generation), 0, NULL},
    {NULL}
};

static PyGetSetDef shadow_getset[] = {
    {"keys", (getter)shadow_get_keys, NULL, "the keys location (a copy)", NULL},
    {"allr", (getter)shadow_get_allr, NULL, "reads of every key", NULL},
    {"wsum", (getter)shadow_get_wsum, NULL, "slot -> (Access, key): the latest write to any key",
     NULL},
    {NULL}
};

PyTypeObject RW_ShadowType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Shadow",
    .tp_doc = "The detector's state for one tracked dict.",
    .tp_basicsize = sizeof(RW_Shadow),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = shadow_tp_new,
    .tp_dealloc = (destructor)shadow_dealloc,
    .tp_traverse = (traverseproc)shadow_traverse,
    .tp_clear = (inquiry)shadow_clear,
    .tp_methods = shadow_methods,
    .tp_members = shadow_members,
    .tp_getset = shadow_getset,
};

/* -- Conflict ------------------------------------------------------------------------------ */

static PyObject *
conflict_make(PyObject *shadow, PyObject *key, int on_keys, PyObject *previous,
              PyObject *current, PyObject *previous_key, PyObject *current_key)
{
    RW_Conflict *c = PyObject_GC_New(RW_Conflict, &RW_ConflictType);
    if (c == NULL) {
        return NULL;
    }
    c->shadow = Py_NewRef(shadow);
    c->key = Py_NewRef(key != NULL ? key : Py_None);
    c->on_keys = (char)(on_keys != 0);
    c->previous = Py_NewRef(previous);
    c->current = Py_NewRef(current);
    c->previous_key = Py_NewRef(previous_key != NULL ? previous_key : Py_None);
    c->current_key = Py_NewRef(current_key != NULL ? current_key : Py_None);
    PyObject_GC_Track(c);
    return (PyObject *)c;
}

static PyObject *
conflict_tp_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"shadow", "key", "on_keys", "previous", "current",
                             "previous_key", "current_key", NULL};
    PyObject *shadow, *key, *previous, *current;
    PyObject *previous_key = Py_None, *current_key = Py_None;
    int on_keys;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOpOO|OO:Conflict", kwlist, &shadow, &key,
                                     &on_keys, &previous, &current, &previous_key,
                                     &current_key)) {
        return NULL;
    }
    return conflict_make(shadow, key, on_keys, previous, current, previous_key, current_key);
}

static int
conflict_traverse(RW_Conflict *c, visitproc visit, void *arg)
{
    Py_VISIT(c->shadow);
    Py_VISIT(c->key);
    Py_VISIT(c->previous);
    Py_VISIT(c->current);
    Py_VISIT(c->previous_key);
    Py_VISIT(c->current_key);
    return 0;
}

static int
conflict_clear(RW_Conflict *c)
{
    Py_CLEAR(c->shadow);
    Py_CLEAR(c->key);
    Py_CLEAR(c->previous);
    Py_CLEAR(c->current);
    Py_CLEAR(c->previous_key);
    Py_CLEAR(c->current_key);
    return 0;
}

static void
conflict_dealloc(RW_Conflict *c)
{
    PyObject_GC_UnTrack(c);
    conflict_clear(c);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyMemberDef conflict_members[] = {
    {"shadow", T_OBJECT, offsetof(RW_Conflict, shadow), READONLY, NULL},
    {"key", T_OBJECT, offsetof(RW_Conflict, key), READONLY,
     "the key location (None for the keys location)"},
    {"on_keys", T_BOOL, offsetof(RW_Conflict, on_keys), READONLY,
     "True for the keys location"},
    {"previous", T_OBJECT, offsetof(RW_Conflict, previous), READONLY, NULL},
    {"current", T_OBJECT, offsetof(RW_Conflict, current), READONLY, NULL},
    {"previous_key", T_OBJECT, offsetof(RW_Conflict, previous_key), READONLY,
     "for the keys location: the key the previous insert or delete touched, if any"},
    {"current_key", T_OBJECT, offsetof(RW_Conflict, current_key), READONLY, NULL},
    {NULL}
};

PyTypeObject RW_ConflictType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.Conflict",
    .tp_doc = "Two accesses that nothing orders, found while checking the later one.",
    .tp_basicsize = sizeof(RW_Conflict),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = conflict_tp_new,
    .tp_dealloc = (destructor)conflict_dealloc,
    .tp_traverse = (traverseproc)conflict_traverse,
    .tp_clear = (inquiry)conflict_clear,
    .tp_members = conflict_members,
};

/* -- one slow-path update: the conflicts it found and what it let go of -------------------- */

typedef struct {
    RW_Access *prev;
    PyObject *key;           /* NULL: the keys location */
    PyObject *previous_key;  /* NULL: None */
    PyObject *current_key;
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

static void
batch_init(rw_batch *b)
{
    b->items = b->items_small;
    b->n = 0;
    b->cap = 4;
    b->trash = b->trash_small;
    b->tn = 0;
    b->tcap = 4;
}

static void
batch_free(rw_batch *b)
{
    for (Py_ssize_t i = 0; i < b->n; i++) {
        Py_DECREF(b->items[i].prev);
        Py_XDECREF(b->items[i].key);
        Py_XDECREF(b->items[i].previous_key);
        Py_XDECREF(b->items[i].current_key);
    }
    if (b->items != b->items_small) {
        PyMem_Free(b->items);
    }
    for (Py_ssize_t i = 0; i < b->tn; i++) {
        Py_DECREF(b->trash[i]);
    }
    if (b->trash != b->trash_small) {
        PyMem_Free(b->trash);
    }
    batch_init(b);
}

static int
batch_add(rw_batch *b, RW_Access *prev, PyObject *key, int on_keys, PyObject *previous_key,
          PyObject *current_key)
{
    if (b->n == b->cap) {
        Py_ssize_t cap = b->cap * 2;
        rw_pending *items = PyMem_Malloc((size_t)cap * sizeof(rw_pending));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(items, b->items, (size_t)b->n * sizeof(rw_pending));
        if (b->items != b->items_small) {
            PyMem_Free(b->items);
        }
        b->items = items;
        b->cap = cap;
    }
    rw_pending *p = &b->items[b->n++];
    p->prev = (RW_Access *)Py_NewRef(prev);
    p->key = Py_XNewRef(key);
    p->previous_key = Py_XNewRef(previous_key);
    p->current_key = Py_XNewRef(current_key);
    p->on_keys = on_keys;
    return 0;
}

/* Release ``obj`` (a reference the caller owns) once the update is complete. */
static int
batch_trash(rw_batch *b, PyObject *obj)
{
    if (b->tn == b->tcap) {
        Py_ssize_t cap = b->tcap * 2;
        PyObject **trash = PyMem_Malloc((size_t)cap * sizeof(PyObject *));
        if (trash == NULL) {
            Py_DECREF(obj);   /* cannot defer it: release it now */
            return 0;
        }
        memcpy(trash, b->trash, (size_t)b->tn * sizeof(PyObject *));
        if (b->trash != b->trash_small) {
            PyMem_Free(b->trash);
        }
        b->trash = trash;
        b->tcap = cap;
    }
    b->trash[b->tn++] = obj;
    return 0;
}

static int
rs_unordered(const RW_ReadSet *rs, PyObject *vc, rw_batch *b, PyObject *key, int on_keys,
             PyObject *previous_key, PyObject *current_key)
{
    Py_ssize_t n = rs_count(rs);
    for (Py_ssize_t i = 0; i < n; i++) {
        RW_Access *rec = rs_item(rs, i);
        if (!covered(rec, vc)
                && batch_add(b, rec, key, on_keys, previous_key, current_key) < 0) {
            return -1;
        }
    }
    return 0;
}

/* _emit: hand each conflict to the sink (the thread is busy meanwhile). */
static int
emit(RW_Shadow *sh, RW_Access *cur, rw_batch *b)
{
    if (b->n == 0) {
        return 0;
    }
    PyObject *sink = settings_field(&rw_settings->sink);
    int rc = 0;
    if (sink != Py_None) {
        for (Py_ssize_t i = 0; i < b->n && rc == 0; i++) {
            rw_pending *p = &b->items[i];
            PyObject *c = conflict_make((PyObject *)sh, p->key, p->on_keys, (PyObject *)p->prev,
                                        (PyObject *)cur, p->previous_key, p->current_key);
            PyObject *r = c != NULL ? PyObject_CallOneArg(sink, c) : NULL;
            Py_XDECREF(c);
            if (r == NULL) {
                rc = -1;
            }
            Py_XDECREF(r);
        }
    }
    Py_DECREF(sink);
    return rc;
}

/* -- entering an access -------------------------------------------------------------------- */

int
rw_budget_check(RW_ThreadState *ts)
{
    PyObject *budget = settings_field(&rw_settings->budget);
    if (budget == Py_None) {
        Py_DECREF(budget);
        return 0;
    }
    Py_INCREF(ts);
    PyObject *r = PyObject_CallMethodNoArgs(budget, str_check);
    Py_DECREF(ts);
    Py_DECREF(budget);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static inline PyObject *
slot_load(PyObject **slot)
{
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
    return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
#else
    return *slot;
#endif
}

#ifdef Py_GIL_DISABLED
/* Stacks that a dict's slot held until the memory budget cut tracking: kept, since a
 * reader may have loaded one just before (free-threaded builds only; see above). */
static PyObject *retired_stacks = NULL;
#endif

/* shadow_of, for a tracked dict whose slot does not hold a shadow yet: a borrowed
 * reference to the shadow now attached, or NULL (no error set: not tracked). */
static PyObject *
attach(PyObject *d, PyObject **slot)
{
    PyObject *cur = slot_load(slot);
    if (cur != NULL && Py_IS_TYPE(cur, &RW_ShadowType)) {
        return cur;
    }
    if (cur == Py_None) {
        return NULL;
    }
    /* Made before it is stored, and the slot looked at again: making it may have run
     * Python code (a garbage collection) that attached one meanwhile. */
    PyObject *made;
    if (rw_settings->tracking) {
        PyObject *kind = PyObject_TypeCheck(d, rw_defaultdict) ? str_defaultdict : str_dict;
        PyObject *created_at = cur != NULL ? cur : PyTuple_New(0);
        made = created_at != NULL ? (PyObject *)shadow_new(kind, created_at) : NULL;
        if (cur == NULL) {
            Py_XDECREF(created_at);
        }
    }
    else {
        /* The memory budget was spent before this dict was first shared. */
        made = Py_NewRef(Py_None);
    }
    if (made == NULL) {
        return NULL;
    }
    PyObject *result, *old = NULL;
    Py_BEGIN_CRITICAL_SECTION(d);
    cur = *slot;
    if (cur != NULL && (cur == Py_None || Py_IS_TYPE(cur, &RW_ShadowType))) {
        result = cur;
    }
    else {
        old = cur;
#if defined(Py_GIL_DISABLED) && !defined(_MSC_VER)
        __atomic_store_n(slot, made, __ATOMIC_RELEASE);
#else
        *slot = made;
#endif
        result = made;
        made = NULL;
    }
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(made);
    if (result != Py_None) {
#ifndef Py_GIL_DISABLED
        /* A dict holding only atomic values may be untracked (tracked.c): its shadow
         * can hold it in a cycle now (a key of the dict that refers to the dict). */
        if (!PyObject_GC_IsTracked(d)) {
            PyObject_GC_Track(d);
        }
#endif
        Py_XDECREF(old);   /* the shadow holds the stack as created_at */
        return result;
    }
    if (old != NULL) {
#ifdef Py_GIL_DISABLED
        if (retired_stacks == NULL || PyList_Append(retired_stacks, old) < 0) {
            PyErr_Clear();
            return NULL;   /* kept: the reference is leaked on purpose */
        }
#endif
        Py_DECREF(old);
    }
    return NULL;
}

int
rw_enter_shadow(PyObject *d, RW_ThreadState *ts, RW_ThreadState **pts, RW_Shadow **psh)
{
    PyObject **slot = rw_shadow_slot(d);
    if (slot == NULL) {
        return 0;   /* built without ``track`` as something else than a tracked dict */
    }
    Py_INCREF(ts);
    PyObject *sh = slot_load(slot);
    if (sh == NULL || !Py_IS_TYPE(sh, &RW_ShadowType)) {
        if (sh == Py_None || (sh = attach(d, slot)) == NULL) {
            Py_DECREF(ts);
            return PyErr_Occurred() ? -1 : 0;
        }
    }
    RW_Shadow *shadow = (RW_Shadow *)sh;
    if (shadow->generation != rw_settings->generation && shadow_forget(shadow, 1) < 0) {
        Py_DECREF(ts);
        return -1;
    }
    *pts = ts;
    *psh = shadow;
    return 1;
}

PyObject *
rw_shadow_of(PyObject *d)
{
    PyObject **slot = rw_shadow_slot(d);
    if (slot == NULL) {
        Py_RETURN_NONE;
    }
    PyObject *sh = attach(d, slot);
    if (sh == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return Py_NewRef(sh);
}

PyObject *
rw_mod_shadow_of(PyObject *Py_UNUSED(module), PyObject *d)
{
    return rw_shadow_of(d);
}

/* -- making a record ------------------------------------------------------------------------ */

static RW_Access *
make_access(RW_ThreadState *ts, PyObject *op, int write)
{
    PyObject *stack = rw_capture(rw_settings->stack_depth, NULL, ts);
    if (stack == NULL) {
        return NULL;
    }
    RW_Access *last = ts->last;
    if (last != NULL && last->clock == ts->clock && last->stack == stack && last->op == op
            && last->write == (char)(write != 0) && last->locks == ts->held) {
        Py_DECREF(stack);
        return (RW_Access *)Py_NewRef(last);
    }
    RW_Access *rec = access_new(ts, stack, op, write);
    if (rec == NULL) {
        return NULL;
    }
    Py_XSETREF(ts->last, (RW_Access *)Py_NewRef(rec));
    return rec;
}

/* A key's location in ``locs``: 1 (a new reference in *pv), 0 (none: a key that prefill
 * put there holds None) or -1 (error). */
static int
loc_lookup(PyObject *locs, PyObject *key, PyObject **pv)
{
    int found = RW_DictGetItemRef(locs, key, pv);
    if (found > 0 && *pv == Py_None) {
        Py_CLEAR(*pv);
        return 0;
    }
    return found;
}

/* Once a shadow has locations for an eighth of a large dict's keys, it is made to hold
 * all of them at once, as None (no location yet), with the dict's own key objects: one
 * allocation instead of a dict grown step by step to the same size (the steps stay in the
 * memory of the thread that grew it), and no second object for each key (a program that
 * looks keys up by value, ``d[i]`` for i in a range, passes a new object each time). */
static int
prefill(RW_Shadow *sh, PyObject *d, rw_batch *b)
{
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
    if (PyDict_Merge(full, sh->locs, 1) < 0) {
        Py_DECREF(full);
        return -1;
    }
    PyObject *old = sh->locs;
    sh->locs = full;
    return batch_trash(b, old);
}

/* The fast path's lookup: -1 when ``locs.get(key)`` raised an Exception (the reference
 * returns without a record: the dict operation raises the same error), -2 for a
 * BaseException that is not one (it propagates), else 0 or 1 (found, in *pv). */
static int
lookup_fast(RW_Shadow *sh, PyObject *key, PyObject **pv)
{
    PyObject *locs = Py_NewRef(sh->locs);
    int found = loc_lookup(locs, key, pv);
    Py_DECREF(locs);
    if (found < 0) {
        if (PyErr_ExceptionMatches(PyExc_Exception)) {
            PyErr_Clear();
            return -1;
        }
        return -2;
    }
    return found;
}

static inline RW_Loc *
as_loc(PyObject *v)
{
    return (Py_IS_TYPE(v, &RW_LocType)) ? (RW_Loc *)v : NULL;
}

/* A location in this state, shared with the last identical one this thread made: a
 * thread that reads a thousand keys in one epoch leaves them one Loc, not a thousand
 * (a Loc never changes once stored, see core.h). */
static RW_Loc *
loc_shared(RW_ThreadState *ts, RW_Access *w, RW_Access *a, RW_Access *b)
{
    for (int i = 0; i < RW_LOC_CACHE; i++) {
        RW_Loc *loc = ts->loc_cache[i];
        if (loc != NULL && loc->w == w && loc->r.a == a && loc->r.b == b
                && loc->r.more == NULL) {
            return (RW_Loc *)Py_NewRef(loc);
        }
    }
    RW_Loc *loc = loc_new(w, a);
    if (loc == NULL) {
        return NULL;
    }
    loc->r.b = (RW_Access *)Py_XNewRef(b);
    Py_XSETREF(ts->loc_cache[ts->loc_cache_next], (RW_Loc *)Py_NewRef(loc));
    ts->loc_cache_next = (ts->loc_cache_next + 1) % RW_LOC_CACHE;
    return loc;
}

/* The location ``loc`` after a read ``cur``: its write, and its read set with ``cur`` added
 * (_add_read), as a new Loc. */
static RW_Loc *
loc_with_read(RW_ThreadState *ts, RW_Loc *loc, RW_Access *cur, PyObject *vc)
{
    const RW_ReadSet *rs = &loc->r;
    if (rs->more == NULL) {
        if (rs->a == NULL) {
            return loc_shared(ts, loc->w, cur, NULL);
        }
        if (rs->b == NULL) {
            if (rs->a->slot == cur->slot || covered(rs->a, vc)) {
                return loc_shared(ts, loc->w, cur, NULL);
            }
            return loc_shared(ts, loc->w, rs->a, cur);
        }
        if (rs->a->slot == cur->slot) {
            return loc_shared(ts, loc->w, cur, rs->b);
        }
        if (rs->b->slot == cur->slot) {
            return loc_shared(ts, loc->w, rs->a, cur);
        }
    }
    /* Shared by three threads or more: a Loc of its own, with its own map. */
    RW_Loc *made = loc_new(loc->w, NULL);
    if (made == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < rs_count(rs); i++) {
        if (readmap_append(&made->r.more, rs_item(rs, i)) < 0) {
            Py_DECREF(made);
            return NULL;
        }
    }
    if (rs_add(&made->r, cur, vc) < 0) {   /* not stored yet: changing it is still fine */
        Py_DECREF(made);
        return NULL;
    }
    return made;
}

/* -- the rules ------------------------------------------------------------------------------ */

static int
read_locked(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, RW_Access *cur,
            rw_batch *b)
{
    PyObject *vc = ts->vc;
    PyObject *locs = Py_NewRef(sh->locs);
    PyObject *v;
    RW_Loc *made = NULL;
    int rc = 0;
    int found = loc_lookup(locs, key, &v);
    if (found < 0) {
        rc = -1;
    }
    else if (!found) {
        if (rw_settings->tracking) {   /* else: the memory budget is spent, no new key */
            made = loc_shared(ts, NULL, cur, NULL);
            rc = made == NULL ? -1 : 0;
        }
    }
    else if (Py_IS_TYPE(v, &RW_AccessType)) {
        RW_Access *w = (RW_Access *)v;
        if (!covered(w, vc)) {
            rc = batch_add(b, w, key, 0, NULL, NULL);
        }
        if (rc == 0) {
            made = loc_shared(ts, w, cur, NULL);
            rc = made == NULL ? -1 : 0;
        }
    }
    else if (as_loc(v) != NULL) {
        RW_Loc *loc = (RW_Loc *)v;
        if (loc->w != NULL && !covered(loc->w, vc)) {
            rc = batch_add(b, loc->w, key, 0, NULL, NULL);
        }
        if (rc == 0) {
            made = loc_with_read(ts, loc, cur, vc);
            rc = made == NULL ? -1 : 0;
        }
    }
    if (made != NULL) {
        /* Published by one store: the shadow is whole before and after it. */
        rc = PyDict_SetItem(locs, key, (PyObject *)made);
        Py_DECREF(made);
        if (rc == 0 && !found) {
            rc = prefill(sh, d, b);
        }
    }
    Py_XDECREF(v);
    Py_DECREF(locs);
    return rc;
}

int
rw_on_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, PyObject *op)
{
    PyObject *v = NULL;
    int same = 0;
    int found = lookup_fast(sh, key, &v);
    if (found == 1) {
        RW_Loc *loc = as_loc(v);
        if (Py_IS_TYPE(v, &RW_AccessType)) {
            same = same_epoch((RW_Access *)v, ts);   /* a read after its own write */
        }
        else if (loc != NULL) {
            same = rs_same_epoch(&loc->r, ts) || same_epoch(loc->w, ts);
        }
    }
    Py_XDECREF(v);
    if (found < 0) {
        return found == -1 ? 0 : -1;
    }
    if (same) {
        return 0;
    }
    RW_Access *cur = make_access(ts, op, 0);
    if (cur == NULL) {
        return -1;
    }
    rw_batch b;
    batch_init(&b);
    int rc;
    ts->busy++;
    Py_BEGIN_CRITICAL_SECTION(sh);
    rc = read_locked(ts, sh, d, key, cur, &b);
    Py_END_CRITICAL_SECTION();
    if (rc == 0) {
        rc = emit(sh, cur, &b);
    }
    ts->busy--;
    batch_free(&b);
    Py_DECREF(cur);
    return rc;
}

/* Replace (or add) the write summary entry of ``cur``'s slot. */
static int
wsum_set(RW_Shadow *sh, RW_Access *cur, PyObject *key, rw_batch *b)
{
    for (Py_ssize_t i = 0; i < sh->wsum_n; i++) {
        rw_wsum_entry *e = &sh->wsum[i];
        if (e->slot == cur->slot) {
            Py_SETREF(e->rec, (RW_Access *)Py_NewRef(cur));
            PyObject *old = e->key;
            e->key = Py_NewRef(key);
            return batch_trash(b, old);
        }
    }
    if (sh->wsum_n == sh->wsum_cap) {
        Py_ssize_t cap = sh->wsum_cap ? sh->wsum_cap * 2 : 4;
        rw_wsum_entry *grown = PyMem_Realloc(sh->wsum, (size_t)cap * sizeof(rw_wsum_entry));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        sh->wsum = grown;
        sh->wsum_cap = cap;
    }
    rw_wsum_entry *e = &sh->wsum[sh->wsum_n++];
    e->slot = cur->slot;
    e->rec = (RW_Access *)Py_NewRef(cur);
    e->key = Py_NewRef(key);
    return 0;
}

static int
check_write(RW_Shadow *sh, PyObject *d, PyObject *key, RW_Access *cur, PyObject *vc,
            rw_batch *b)
{
    PyObject *locs = Py_NewRef(sh->locs);
    PyObject *v;
    int found = loc_lookup(locs, key, &v);
    int rc = found < 0 ? -1 : 0;
    if (found > 0) {
        RW_Loc *loc = as_loc(v);
        if (Py_IS_TYPE(v, &RW_AccessType)) {
            if (!covered((RW_Access *)v, vc)) {
                rc = batch_add(b, (RW_Access *)v, key, 0, NULL, NULL);
            }
        }
        else if (loc != NULL) {
            if (loc->w != NULL && !covered(loc->w, vc)) {
                rc = batch_add(b, loc->w, key, 0, NULL, NULL);
            }
            if (rc == 0) {
                rc = rs_unordered(&loc->r, vc, b, key, 0, NULL, NULL);
            }
        }
    }
    if (rc == 0) {
        rc = rs_unordered(&sh->allr, vc, b, key, 0, NULL, NULL);
    }
    if (rc == 0 && (found > 0 || rw_settings->tracking)) {
        /* (else: the memory budget is spent, no new key) */
        rc = PyDict_SetItem(locs, key, (PyObject *)cur);
        if (rc == 0) {
            rc = wsum_set(sh, cur, key, b);
        }
        if (rc == 0 && !found) {
            rc = prefill(sh, d, b);
        }
    }
    Py_XDECREF(v);
    Py_DECREF(locs);
    return rc;
}

static int
write_keys(RW_Shadow *sh, PyObject *key, RW_Access *cur, PyObject *vc, rw_batch *b)
{
    RW_Access *w = sh->keys_w;
    if (w != NULL && !covered(w, vc)
            && batch_add(b, w, NULL, 1, sh->keys_wkey, key) < 0) {
        return -1;
    }
    if (rs_unordered(&sh->keys_r, vc, b, NULL, 1, NULL, key) < 0) {
        return -1;
    }
    Py_XSETREF(sh->keys_w, (RW_Access *)Py_NewRef(cur));
    rs_clear(&sh->keys_r);
    PyObject *old = sh->keys_wkey;
    sh->keys_wkey = Py_NewRef(key != NULL ? key : Py_None);
    return old != NULL ? batch_trash(b, old) : 0;
}

static int
read_keys(RW_Shadow *sh, RW_Access *cur, PyObject *vc, rw_batch *b)
{
    RW_Access *w = sh->keys_w;
    if (w != NULL && !covered(w, vc) && batch_add(b, w, NULL, 1, sh->keys_wkey, NULL) < 0) {
        return -1;
    }
    return rs_add(&sh->keys_r, cur, vc);
}

/* -- the sweep of deleted keys (shadow._sweep) ----------------------------------------------- */

static int
ordered_before(PyObject *v, const long long *minc, Py_ssize_t n)
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

static int
del_location(PyObject *locs, PyObject *key)
{
    if (PyDict_DelItem(locs, key) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
            return -1;
        }
        PyErr_Clear();   /* gone meanwhile */
    }
    return 0;
}

/* Forget deleted keys, so that a dict whose keys come and go forever stays bounded: see
 * shadow._sweep, the reference, for why and when.  It works on a snapshot of the keys of
 * ``locs``, so that Python code running in the middle (a key's __eq__, the registry) can
 * neither break the iteration nor be broken by it. */
static int
sweep(RW_Shadow *sh, PyObject *d)
{
    if (rw_registry == NULL) {
        return 0;
    }
    PyObject *minc_list = PyObject_CallMethodNoArgs(rw_registry, str_min_clock);
    if (minc_list == NULL) {
        return -1;
    }
    PyObject *minc_fast = PySequence_Fast(minc_list, "min_clock() must give a sequence");
    Py_DECREF(minc_list);
    if (minc_fast == NULL) {
        return -1;
    }
    Py_ssize_t nmin = PySequence_Fast_GET_SIZE(minc_fast);
    long long *minc = PyMem_Malloc((size_t)(nmin ? nmin : 1) * sizeof(long long));
    if (minc == NULL) {
        Py_DECREF(minc_fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < nmin; i++) {
        minc[i] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(minc_fast, i));
    }
    Py_DECREF(minc_fast);
    if (PyErr_Occurred()) {
        PyMem_Free(minc);
        return -1;
    }
    PyObject *locs = Py_NewRef(sh->locs);
    Py_ssize_t budget = PyDict_Size(d);
    if (budget < 1024) {
        budget = 1024;
    }
    PyObject *keys = PyDict_Keys(locs);
    PyObject *kept = PyList_New(0);
    int rc = keys == NULL || kept == NULL ? -1 : 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(keys); i++) {
        PyObject *key = PyList_GET_ITEM(keys, i);
        int present = PyDict_Contains(d, key);
        if (present < 0) {
            rc = -1;
            break;
        }
        if (present) {
            continue;
        }
        PyObject *v;
        int found = RW_DictGetItemRef(locs, key, &v);
        if (found < 0) {
            rc = -1;
        }
        else if (found) {
            int before = ordered_before(v, minc, nmin);
            Py_DECREF(v);
            rc = before ? del_location(locs, key) : PyList_Append(kept, key);
        }
    }
    if (rc == 0) {
        Py_ssize_t excess = PyList_GET_SIZE(kept) - budget;
        if (excess > 0) {
            /* locs keeps first-insertion order: the oldest first */
            for (Py_ssize_t i = 0; rc == 0 && i < excess; i++) {
                rc = del_location(locs, PyList_GET_ITEM(kept, i));
            }
            rw_settings->forgotten_keys += excess;
        }
        sh->sweep_at = PyDict_GET_SIZE(locs) + budget;
    }
    Py_XDECREF(kept);
    Py_XDECREF(keys);
    Py_DECREF(locs);
    PyMem_Free(minc);
    return rc;
}

int
rw_on_write(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *key, PyObject *op,
            int keys_change)
{
    PyObject *v = NULL;
    int same = 0;
    int found = lookup_fast(sh, key, &v);
    if (found == 1 && !keys_change) {
        RW_Loc *loc = as_loc(v);
        if (Py_IS_TYPE(v, &RW_AccessType)) {
            same = same_epoch((RW_Access *)v, ts);
        }
        else if (loc != NULL) {
            same = same_epoch(loc->w, ts);
        }
    }
    Py_XDECREF(v);
    if (found < 0) {
        return found == -1 ? 0 : -1;
    }
    if (same) {
        return 0;
    }
    RW_Access *cur = make_access(ts, op, 1);
    if (cur == NULL) {
        return -1;
    }
    rw_batch b;
    batch_init(&b);
    int rc;
    ts->busy++;
    Py_BEGIN_CRITICAL_SECTION(sh);
    rc = check_write(sh, d, key, cur, ts->vc, &b);
    if (rc == 0 && keys_change) {
        rc = write_keys(sh, key, cur, ts->vc, &b);
        if (rc == 0 && PyDict_GET_SIZE(sh->locs) > sh->sweep_at) {
            rc = sweep(sh, d);
        }
    }
    Py_END_CRITICAL_SECTION();
    if (rc == 0) {
        rc = emit(sh, cur, &b);
    }
    ts->busy--;
    batch_free(&b);
    Py_DECREF(cur);
    return rc;
}

int
rw_on_keys_read(RW_ThreadState *ts, RW_Shadow *sh, PyObject *op)
{
    int same;
    RW_FT_BEGIN(sh);
    same = rs_same_epoch(&sh->keys_r, ts) || same_epoch(sh->keys_w, ts);
    RW_FT_END();
    if (same) {
        return 0;
    }
    RW_Access *cur = make_access(ts, op, 0);
    if (cur == NULL) {
        return -1;
    }
    rw_batch b;
    batch_init(&b);
    int rc;
    ts->busy++;
    Py_BEGIN_CRITICAL_SECTION(sh);
    rc = read_keys(sh, cur, ts->vc, &b);
    Py_END_CRITICAL_SECTION();
    if (rc == 0) {
        rc = emit(sh, cur, &b);
    }
    ts->busy--;
    batch_free(&b);
    Py_DECREF(cur);
    return rc;
}

int
rw_on_read_all(RW_ThreadState *ts, RW_Shadow *sh, PyObject *op)
{
    int same;
    RW_FT_BEGIN(sh);
    same = rs_same_epoch(&sh->allr, ts) && rs_same_epoch(&sh->keys_r, ts);
    RW_FT_END();
    if (same) {
        return 0;
    }
    RW_Access *cur = make_access(ts, op, 0);
    if (cur == NULL) {
        return -1;
    }
    rw_batch b;
    batch_init(&b);
    int rc;
    PyObject *vc = ts->vc;
    ts->busy++;
    Py_BEGIN_CRITICAL_SECTION(sh);
    rc = read_keys(sh, cur, vc, &b);
    for (Py_ssize_t i = 0; rc == 0 && i < sh->wsum_n; i++) {
        rw_wsum_entry *e = &sh->wsum[i];
        if (!covered(e->rec, vc)) {
            rc = batch_add(&b, e->rec, e->key, 0, NULL, NULL);
        }
    }
    if (rc == 0) {
        rc = rs_add(&sh->allr, cur, vc);
    }
    Py_END_CRITICAL_SECTION();
    if (rc == 0) {
        rc = emit(sh, cur, &b);
    }
    ts->busy--;
    batch_free(&b);
    Py_DECREF(cur);
    return rc;
}

int
rw_on_clear(RW_ThreadState *ts, RW_Shadow *sh, PyObject *d, PyObject *op)
{
    RW_Access *cur = make_access(ts, op, 1);
    if (cur == NULL) {
        return -1;
    }
    rw_batch b;
    batch_init(&b);
    int rc;
    PyObject *vc = ts->vc;
    ts->busy++;
    Py_BEGIN_CRITICAL_SECTION(sh);
    PyObject *keys = PyDict_Keys(d);   /* list(dict.keys(d)): a snapshot */
    rc = keys == NULL ? -1 : 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(keys); i++) {
        rc = check_write(sh, d, PyList_GET_ITEM(keys, i), cur, vc, &b);
    }
    if (rc == 0) {
        rc = write_keys(sh, NULL, cur, vc, &b);
    }
    Py_XDECREF(keys);
    Py_END_CRITICAL_SECTION();
    if (rc == 0) {
        rc = emit(sh, cur, &b);
    }
    ts->busy--;
    batch_free(&b);
    Py_DECREF(cur);
    return rc;
}

/* -- the module-level functions (shadow.on_read & co, for Python callers) ------------------- */

static int
check_op(PyObject *op)
{
    if (!PyUnicode_Check(op)) {
        PyErr_SetString(PyExc_TypeError, "op must be a str");
        return -1;
    }
    return 0;
}

PyObject *
rw_mod_on_read(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "on_read expected 3 arguments, got %zd", nargs);
        return NULL;
    }
    if (check_op(args[2]) < 0) {
        return NULL;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(args[0], &ts, &sh);
    if (e > 0) {
        e = rw_on_read(ts, sh, args[0], args[1], args[2]);
        Py_DECREF(ts);
    }
    if (e < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *
rw_mod_on_write(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "on_write expected 4 arguments, got %zd", nargs);
        return NULL;
    }
    if (check_op(args[2]) < 0) {
        return NULL;
    }
    int keys_change = PyObject_IsTrue(args[3]);
    if (keys_change < 0) {
        return NULL;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(args[0], &ts, &sh);
    if (e > 0) {
        e = rw_on_write(ts, sh, args[0], args[1], args[2], keys_change);
        Py_DECREF(ts);
    }
    if (e < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
mod_whole(PyObject *const *args, Py_ssize_t nargs, const char *name, int kind)
{
    if (nargs < 1 || nargs > 2 || (nargs == 1 && kind != 2)) {
        PyErr_Format(PyExc_TypeError, "%s: wrong number of arguments (%zd)", name, nargs);
        return NULL;
    }
    PyObject *op = nargs == 2 ? args[1] : RW_OP(CLEAR);
    if (check_op(op) < 0) {
        return NULL;
    }
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(args[0], &ts, &sh);
    if (e > 0) {
        e = kind == 0 ? rw_on_keys_read(ts, sh, op)
            : kind == 1 ? rw_on_read_all(ts, sh, op)
            : rw_on_clear(ts, sh, args[0], op);
        Py_DECREF(ts);
    }
    if (e < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyObject *
rw_mod_on_keys_read(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    return mod_whole(args, nargs, "on_keys_read", 0);
}

PyObject *
rw_mod_on_read_all(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    return mod_whole(args, nargs, "on_read_all", 1);
}

PyObject *
rw_mod_on_clear(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    return mod_whole(args, nargs, "on_clear", 2);
}

/* -- module init ---------------------------------------------------------------------------- */

int
rw_shadow_ready(PyObject *module)
{
    for (int i = 0; i < RW_OP_COUNT; i++) {
        if (rw_ops[i] == NULL && (rw_ops[i] = PyUnicode_InternFromString(op_names[i])) == NULL) {
            return -1;
        }
    }
    if ((str_dict == NULL && (str_dict = PyUnicode_InternFromString("dict")) == NULL)
            || (str_defaultdict == NULL
                && (str_defaultdict = PyUnicode_InternFromString("defaultdict")) == NULL)
            || (str_check == NULL && (str_check = PyUnicode_InternFromString("check")) == NULL)
            || (str_min_clock == NULL
                && (str_min_clock = PyUnicode_InternFromString("min_clock")) == NULL)) {
        return -1;
    }
#ifdef Py_GIL_DISABLED
    if (retired_stacks == NULL && (retired_stacks = PyList_New(0)) == NULL) {
        return -1;
    }
#endif
    PyTypeObject *types[] = {&RW_AccessType, &RW_LocType, &RW_KeysLocType, &RW_ShadowType,
                             &RW_ConflictType};
    const char *names[] = {"Access", "Loc", "KeysLoc", "Shadow", "Conflict"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (PyType_Ready(types[i]) < 0
                || PyModule_AddObjectRef(module, names[i], (PyObject *)types[i]) < 0) {
            return -1;
        }
    }
    return 0;
}
