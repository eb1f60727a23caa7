/* ThreadState (threads.py) and the C thread-local that finds the current one.
 *
 * threads.py hands each state to C when it installs it for the calling thread (begin,
 * adopt) and takes it back when it lets go (forget_current, reset_after_fork, and the
 * thread's end: the sentinel in its threading.local dies).  The thread-local belongs to
 * the OS thread and starts NULL in every new one, so a thread ident that the OS reuses
 * can never find an earlier thread's state: with no state, the access asks
 * REGISTRY.current(), which adopts the thread as a new logical thread.
 */

#include "core.h"

RW_THREAD_LOCAL RW_ThreadState *rw_tls_state = NULL;   /* a strong reference */
PyObject *rw_registry = NULL;
PyObject *rw_registry_current = NULL;

RW_ThreadState *
rw_current_slow(void)
{
    if (rw_registry_current == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "racewatch._core: no thread registry (see runtime/shadow.py)");
        return NULL;
    }
    PyObject *state = PyObject_CallNoArgs(rw_registry_current);
    if (state == NULL) {
        return NULL;
    }
    if (!Py_IS_TYPE(state, &RW_ThreadStateType)) {
        PyErr_Format(PyExc_TypeError, "REGISTRY.current() gave a %.100s, not a ThreadState",
                     Py_TYPE(state)->tp_name);
        Py_DECREF(state);
        return NULL;
    }
    if (rw_tls_state == NULL) {
        rw_tls_state = (RW_ThreadState *)state;   /* the state was installed before C knew */
    }
    else {
        Py_DECREF(state);
    }
    return rw_tls_state;
}

/* -- the type --------------------------------------------------------------------------- */

static PyObject *
threadstate_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"info", "slot", "vc", NULL};
    PyObject *info, *vc;
    Py_ssize_t slot;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OnO!:ThreadState", kwlist, &info, &slot,
                                     &PyList_Type, &vc)) {
        return NULL;
    }
    if (slot < 0 || slot >= PyList_GET_SIZE(vc)) {
        PyErr_SetString(PyExc_IndexError, "ThreadState: slot out of the clock's range");
        return NULL;
    }
    long long clock = PyLong_AsLongLong(PyList_GET_ITEM(vc, slot));
    if (clock == -1 && PyErr_Occurred()) {
        return NULL;
    }
    RW_ThreadState *ts = (RW_ThreadState *)type->tp_alloc(type, 0);
    if (ts == NULL) {
        return NULL;
    }
    ts->info = Py_NewRef(info);
    ts->slot = slot;
    ts->vc = Py_NewRef(vc);
    ts->clock = clock;
    ts->held = PyTuple_New(0);
    ts->spawn_clock = Py_NewRef(Py_None);
    ts->sentinel_ref = Py_NewRef(Py_None);
    if (ts->held == NULL) {
        Py_DECREF(ts);
        return NULL;
    }
    return (PyObject *)ts;
}

static int
threadstate_traverse(RW_ThreadState *ts, visitproc visit, void *arg)
{
    Py_VISIT(ts->info);
    Py_VISIT(ts->vc);
    Py_VISIT(ts->held);
    Py_VISIT(ts->events);
    Py_VISIT(ts->events_info);
    Py_VISIT(ts->spawn_clock);
    Py_VISIT(ts->sentinel_ref);
    for (int i = 0; i < RW_ATTR_SEEN; i++) {
        Py_VISIT(ts->attr_seen[i].ref);
    }
    Py_VISIT(ts->deferred.target);
    Py_VISIT(ts->deferred.value);
    Py_VISIT(ts->deferred.stack);
    Py_VISIT(ts->deferred.held);
    int rc = rw_stack_cache_traverse(ts, visit, arg);
    return rc != 0 ? rc : rw_walk_memo_traverse(ts, visit, arg);
}

static int
threadstate_clear(RW_ThreadState *ts)
{
    Py_CLEAR(ts->info);
    Py_CLEAR(ts->vc);
    Py_CLEAR(ts->held);
    Py_CLEAR(ts->events);
    Py_CLEAR(ts->events_info);
    Py_CLEAR(ts->spawn_clock);
    Py_CLEAR(ts->sentinel_ref);
    for (int i = 0; i < RW_RECENT; i++) {
        Py_CLEAR(ts->recent[i]);
    }
    Py_CLEAR(ts->last_read_key);
    Py_CLEAR(ts->last_read);
    rw_stack_cache_clear(ts);
    rw_walk_memo_clear(ts);
    for (int i = 0; i < RW_LOC_CACHE; i++) {
        Py_CLEAR(ts->loc_cache[i]);
    }
    for (int i = 0; i < RW_ATTR_SEEN; i++) {
        Py_CLEAR(ts->attr_seen[i].name);
        Py_CLEAR(ts->attr_seen[i].ref);
    }
    rw_drop_deferred(ts);
    return 0;
}

static void
threadstate_dealloc(RW_ThreadState *ts)
{
    PyObject_GC_UnTrack(ts);
    if (ts->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)ts);
    }
    threadstate_clear(ts);
    rw_stack_cache_free(ts);
    rw_walk_memo_free(ts);
    Py_TYPE(ts)->tp_free((PyObject *)ts);
}

static PyObject *
threadstate_tick(RW_ThreadState *ts, PyObject *Py_UNUSED(ignored))
{
    /* Start a new epoch (after a release: later accesses are not ordered by it). */
    if (ts->slot >= PyList_GET_SIZE(ts->vc)) {
        PyErr_SetString(PyExc_IndexError, "ThreadState.tick: slot out of the clock's range");
        return NULL;
    }
    PyObject *value = PyLong_FromLongLong(ts->clock + 1);
    if (value == NULL) {
        return NULL;
    }
    if (PyList_SetItem(ts->vc, ts->slot, value) < 0) {
        return NULL;
    }
    ts->clock += 1;
    Py_RETURN_NONE;
}

static PyObject *
threadstate_get_recent(RW_ThreadState *ts, void *Py_UNUSED(closure))
{
    PyObject *made = PyList_New(0);
    for (int i = 0; made != NULL && i < RW_RECENT; i++) {
        RW_Access *rec = ts->recent[(ts->recent_next + RW_RECENT - 1 - i) % RW_RECENT];
        if (rec != NULL && PyList_Append(made, (PyObject *)rec) < 0) {
            Py_CLEAR(made);
        }
    }
    return made;
}

static PyObject *
threadstate_get_object(RW_ThreadState *ts, void *closure)
{
    PyObject *value = *(PyObject **)((char *)ts + (Py_ssize_t)closure);
    return Py_NewRef(value != NULL ? value : Py_None);
}

static int
threadstate_set_object(RW_ThreadState *ts, PyObject *value, void *closure)
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a ThreadState attribute");
        return -1;
    }
    PyObject **field = (PyObject **)((char *)ts + (Py_ssize_t)closure);
    Py_XSETREF(*field, Py_NewRef(value));
    return 0;
}

static PyObject *
threadstate_get_vc(RW_ThreadState *ts, void *Py_UNUSED(closure))
{
    return Py_NewRef(ts->vc);
}

static int
threadstate_set_vc(RW_ThreadState *ts, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL || !PyList_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "ThreadState.vc must be a list");
        return -1;
    }
    Py_XSETREF(ts->vc, Py_NewRef(value));
    return 0;
}

#define OBJECT_FIELD(name, field, doc)                                                   \
    {name, (getter)threadstate_get_object, (setter)threadstate_set_object, doc,          \
     (void *)offsetof(RW_ThreadState, field)}

static PyObject *
threadstate_get_accesses(RW_ThreadState *ts, void *Py_UNUSED(closure))
{
    /* Read by other threads (REGISTRY.accesses()) while this one counts on. */
    return PyLong_FromLongLong(RW_LOAD(&ts->accesses));
}

/* ``dead``: set by the registry (under its lock) while other threads' acquires read it
 * (sync.c's releaser_epoch_known), so both sides are atomic. */
static PyObject *
threadstate_get_dead(RW_ThreadState *ts, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(RW_LOAD(&ts->dead));
}

static int
threadstate_set_dead(RW_ThreadState *ts, PyObject *value, void *Py_UNUSED(closure))
{
    int truth = value != NULL ? PyObject_IsTrue(value) : -1;
    if (truth < 0) {
        if (value == NULL) {
            PyErr_SetString(PyExc_AttributeError, "cannot delete ThreadState.dead");
        }
        return -1;
    }
    RW_STORE(&ts->dead, (char)truth);
    return 0;
}

static PyGetSetDef threadstate_getset[] = {
    {"dead", (getter)threadstate_get_dead, (setter)threadstate_set_dead,
     "the thread ended: its slot may be another thread's", NULL},
    OBJECT_FIELD("info", info, "ThreadInfo"),
    OBJECT_FIELD("held", held, "tuple of LockInfo, the tracked locks this thread holds"),
    OBJECT_FIELD("spawn_clock", spawn_clock,
                 "what threads started as internals inherit (a pool's workers)"),
    OBJECT_FIELD("_sentinel_ref", sentinel_ref, NULL),
    {"vc", (getter)threadstate_get_vc, (setter)threadstate_set_vc,
     "VectorClock, owned by this thread", NULL},
    {"recent", (getter)threadstate_get_recent, NULL,
     "the Access records made lately, newest first, reused while nothing changed", NULL},
    {"accesses", (getter)threadstate_get_accesses, NULL,
     "tracked accesses made by this thread", NULL},
    {NULL}
};

static PyMemberDef threadstate_members[] = {
    {"slot", T_PYSSIZET, offsetof(RW_ThreadState, slot), 0,
     "index of this thread's entry in vector clocks"},
    {"clock", T_LONGLONG, offsetof(RW_ThreadState, clock), 0,
     "== vc[slot], this thread's current epoch"},
    {"busy", T_INT, offsetof(RW_ThreadState, busy), 0,
     "> 0 while racewatch itself runs in this thread (reports, repr)"},
    {"ignoring", T_INT, offsetof(RW_ThreadState, ignoring), 0,
     "> 0 inside racewatch.ignore(): accesses only, never sync edges"},
    {"internal", T_INT, offsetof(RW_ThreadState, internal), 0,
     "> 0 while a primitive builds its internal locks (see patches)"},
    {"pending", T_BOOL, offsetof(RW_ThreadState, pending), READONLY,
     "the epoch was published by a lock's release: settle() ends it"},
    {NULL}
};

static PyObject *
threadstate_settle(RW_ThreadState *ts, PyObject *Py_UNUSED(ignored))
{
    if (rw_settle_pending(ts) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef threadstate_methods[] = {
    {"tick", (PyCFunction)threadstate_tick, METH_NOARGS,
     "Start a new epoch (after a release: later accesses are not ordered by it)."},
    {"settle", (PyCFunction)threadstate_settle, METH_NOARGS,
     "Start the epoch a lock's release ended, if it has not started yet (sync.py)."},
    {NULL}
};

PyTypeObject RW_ThreadStateType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.ThreadState",
    .tp_doc = "The detector's per-thread state; only its own thread changes it.",
    .tp_basicsize = sizeof(RW_ThreadState),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = threadstate_new,
    .tp_dealloc = (destructor)threadstate_dealloc,
    .tp_traverse = (traverseproc)threadstate_traverse,
    .tp_clear = (inquiry)threadstate_clear,
    .tp_weaklistoffset = offsetof(RW_ThreadState, weakreflist),
    .tp_methods = threadstate_methods,
    .tp_members = threadstate_members,
    .tp_getset = threadstate_getset,
};

/* -- the hand-over from threads.py ------------------------------------------------------- */

static PyObject *
set_current(PyObject *Py_UNUSED(module), PyObject *state)
{
    if (state == Py_None) {
        Py_CLEAR(rw_tls_state);
        Py_RETURN_NONE;
    }
    if (!Py_IS_TYPE(state, &RW_ThreadStateType)) {
        PyErr_SetString(PyExc_TypeError, "set_current: a ThreadState or None");
        return NULL;
    }
    Py_XSETREF(rw_tls_state, (RW_ThreadState *)Py_NewRef(state));
    rw_late_free_thread();
    Py_RETURN_NONE;
}

static PyObject *
drop_current(PyObject *Py_UNUSED(module), PyObject *state)
{
    /* The thread of ``state`` lost it (its threading.local was cleared): forget it if this
     * OS thread still holds it, so that a later access asks the registry again. */
    if ((PyObject *)rw_tls_state == state) {
        Py_CLEAR(rw_tls_state);
    }
    Py_RETURN_NONE;
}

static PyObject *
current_state(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return Py_NewRef(rw_tls_state != NULL ? (PyObject *)rw_tls_state : Py_None);
}

/* The calling thread's own dict under ``key`` in its thread state's dict
 * (PyThreadState_GetDict), made on first use: what threads.py keeps per thread (its state,
 * the sentinel whose death says it ended).  Only this thread uses it, and CPython clears it
 * with the thread state.  A threading.local would keep one dict of every thread's dicts,
 * written by each thread that begins and ends: on a free-threaded build CPython may hand
 * that dict's lock to a waiting thread as another thread forks, and the child, which
 * clears the dead threads' locals inside os.fork(), then waits for it forever. */
static PyObject *
thread_dict(PyObject *Py_UNUSED(module), PyObject *key)
{
    PyObject *all = PyThreadState_GetDict();   /* borrowed */
    if (all == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError,
                            "racewatch._core: the thread has no thread-state dict");
        }
        return NULL;
    }
    PyObject *mine;
    int found = RW_DictGetItemRef(all, key, &mine);
    if (found != 0) {
        return found < 0 ? NULL : mine;
    }
    mine = PyDict_New();
    if (mine == NULL || PyDict_SetItem(all, key, mine) < 0) {
        Py_XDECREF(mine);
        return NULL;
    }
    return mine;
}

static PyObject *
configure(PyObject *Py_UNUSED(module), PyObject *registry)
{
    PyObject *current = PyObject_GetAttrString(registry, "current");
    if (current == NULL) {
        return NULL;
    }
    Py_XSETREF(rw_registry, Py_NewRef(registry));
    Py_XSETREF(rw_registry_current, current);
    Py_RETURN_NONE;
}

static PyMethodDef threadstate_functions[] = {
    {"set_current", set_current, METH_O,
     "Install ``state`` (or None) as the calling thread's state for the compiled core."},
    {"drop_current", drop_current, METH_O,
     "Forget ``state`` if it is the calling thread's (its thread-local was cleared)."},
    {"current_state", current_state, METH_NOARGS,
     "The calling thread's state as the compiled core sees it, or None."},
    {"thread_dict", thread_dict, METH_O,
     "The calling thread's own dict under ``key`` in its thread-state dict (made if new)."},
    {"configure", configure, METH_O,
     "Hand the thread registry (shadow.REGISTRY) to the compiled core."},
    {NULL}
};

int
rw_threadstate_ready(PyObject *module)
{
    if (PyType_Ready(&RW_ThreadStateType) < 0) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "ThreadState", (PyObject *)&RW_ThreadStateType) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, threadstate_functions);
}
