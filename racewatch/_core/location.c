/* Loc and KeysLoc: the state of one location, and the sharing of identical ones (a thread
 * that reads a thousand keys in one epoch leaves them one Loc). */

#include "engine.h"

/* -- Loc and KeysLoc ----------------------------------------------------------------------- */

static rw_freelist loc_freelist;   /* of plain Locs, not KeysLocs */

static RW_Loc *
loc_new(RW_Access *w, RW_Access *r)
{
    RW_Loc *loc = (RW_Loc *)rw_freelist_pop(&loc_freelist, &RW_LocType);
    if (loc == NULL) {
        loc = PyObject_New(RW_Loc, &RW_LocType);
        if (loc != NULL) {
            rw_readable_unlocked((PyObject *)loc);
        }
    }
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
    if (loc != NULL && rw_rs_from_object(&loc->r, r) < 0) {
        Py_CLEAR(loc);
    }
    return (PyObject *)loc;
}

static void
loc_dealloc(RW_Loc *loc)
{
    Py_XDECREF(loc->w);
    rw_rs_clear(&loc->r);
    if (!Py_IS_TYPE(loc, &RW_LocType) || !rw_freelist_push(&loc_freelist, (PyObject *)loc)) {
        Py_TYPE(loc)->tp_free((PyObject *)loc);
    }
}

static PyObject *
loc_get_w(RW_Loc *loc, void *Py_UNUSED(closure))
{
    return Py_NewRef(loc->w != NULL ? (PyObject *)loc->w : Py_None);
}

static PyObject *
loc_get_r(RW_Loc *loc, void *Py_UNUSED(closure))
{
    return rw_rs_as_object(&loc->r);
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

RW_KeysLoc *
rw_keysloc_new(void)
{
    RW_KeysLoc *keys = PyObject_GC_New(RW_KeysLoc, &RW_KeysLocType);
    if (keys == NULL) {
        return NULL;
    }
    keys->base.w = NULL;
    memset(&keys->base.r, 0, sizeof(RW_ReadSet));
    keys->wkey = Py_NewRef(Py_None);
    keys->u = PyDict_New();
    if (keys->u == NULL) {
        Py_DECREF(keys);
        return NULL;
    }
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
    return (PyObject *)rw_keysloc_new();
}

static int
keysloc_traverse(RW_KeysLoc *keys, visitproc visit, void *arg)
{
    Py_VISIT(keys->wkey);
    Py_VISIT(keys->u);
    return 0;
}

static int
keysloc_clear(RW_KeysLoc *keys)
{
    Py_CLEAR(keys->wkey);
    Py_CLEAR(keys->u);
    return 0;
}

static void
keysloc_dealloc(RW_KeysLoc *keys)
{
    PyObject_GC_UnTrack(keys);
    Py_XDECREF(keys->base.w);
    rw_rs_clear(&keys->base.r);
    Py_XDECREF(keys->wkey);
    Py_XDECREF(keys->u);
    Py_TYPE(keys)->tp_free((PyObject *)keys);
}

static PyMemberDef keysloc_members[] = {
    {"wkey", T_OBJECT, offsetof(RW_KeysLoc, wkey), READONLY,
     "the key its last write inserted or deleted, or None"},
    {"u", T_OBJECT, offsetof(RW_KeysLoc, u), READONLY,
     "its updates (inserts, deletes) since its last write: {slot: (Access, key)}"},
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

/* ``loc``, a location this thread just made, kept among the last ones it made (in place of
 * the oldest) for the next identical one to share. */
static RW_Loc *
remembered(RW_ThreadState *ts, RW_Loc *loc)
{
    Py_XSETREF(ts->loc_cache[ts->loc_cache_next], (RW_Loc *)Py_NewRef(loc));
    ts->loc_cache_next = (ts->loc_cache_next + 1) % RW_LOC_CACHE;
    return loc;
}

/* A location in this state, shared with the last identical one this thread made: a
 * thread that reads a thousand keys in one epoch leaves them one Loc, not a thousand
 * (a Loc never changes once stored, see core.h). */
RW_Loc *
rw_loc_shared(RW_ThreadState *ts, RW_Access *w, RW_Access *a, RW_Access *b)
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
    return remembered(ts, loc);
}

/* Whether ``loc``'s reads are a map holding what read set ``rs`` holds with ``cur`` added
 * (rw_rs_add on a map: ``cur`` in place of its thread's read, else after the others). */
static int
map_with_read(const RW_Loc *loc, const RW_ReadSet *rs, RW_Access *cur)
{
    const rw_readmap *map = loc->r.more;
    Py_ssize_t n = rs_count(rs), at = n;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (rs_item(rs, i)->slot == cur->slot) {
            at = i;
            break;
        }
    }
    if (map == NULL || map->n != (at == n ? n + 1 : n)) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < map->n; i++) {
        if (map->items[i] != (i == at ? cur : rs_item(rs, i))) {
            return 0;
        }
    }
    return 1;
}

/* The location ``loc`` after a read ``cur``: its write, and its read set with ``cur`` added
 * (_add_read), as a new Loc. */
RW_Loc *
rw_loc_with_read(RW_ThreadState *ts, RW_Loc *loc, RW_Access *cur, PyObject *vc)
{
    const RW_ReadSet *rs = &loc->r;
    if (rs->more == NULL) {
        if (rs->a == NULL) {
            return rw_loc_shared(ts, loc->w, cur, NULL);
        }
        if (rs->b == NULL) {
            if (rs->a->slot == cur->slot || covered(rs->a, vc)) {
                return rw_loc_shared(ts, loc->w, cur, NULL);
            }
            return rw_loc_shared(ts, loc->w, rs->a, cur);
        }
        if (rs->a->slot == cur->slot) {
            return rw_loc_shared(ts, loc->w, cur, rs->b);
        }
        if (rs->b->slot == cur->slot) {
            return rw_loc_shared(ts, loc->w, rs->a, cur);
        }
    }
    /* Read by three threads or more: a map, shared as the pairs are. */
    for (int i = 0; i < RW_LOC_CACHE; i++) {
        RW_Loc *same = ts->loc_cache[i];
        if (same != NULL && same->w == loc->w && map_with_read(same, rs, cur)) {
            return (RW_Loc *)Py_NewRef(same);
        }
    }
    RW_Loc *made = loc_new(loc->w, NULL);
    if (made == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < rs_count(rs); i++) {
        if (rw_readmap_append(&made->r.more, rs_item(rs, i)) < 0) {
            Py_DECREF(made);
            return NULL;
        }
    }
    if (rw_rs_add(&made->r, cur, vc) < 0) {   /* not stored yet: changing it is still fine */
        Py_DECREF(made);
        return NULL;
    }
    return remembered(ts, made);
}
