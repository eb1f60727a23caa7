/* The tracked locks' methods (patches/locks.py: LockBase, RLockBase) and the questions
 * every patch asks first (patches/context.py: thread_state, building_internals,
 * as_internal).
 *
 * The Python classes Lock and RLock of patches/locks.py inherit these methods when the
 * compiled core runs; their edges are sync.c's operations, called directly.
 */

#include "core.h"

static PyObject *str_acquire, *str_release, *str_locked, *str_is_owned, *str_release_save,
    *str_acquire_restore, *str_at_fork_reinit, *kind_acquire, *kind_release;

/* -- LockBase and RLockBase (patches/locks.py) -------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *lock;      /* the real _thread.lock or _thread.RLock */
    PyObject *sync;      /* SyncVar */
    PyObject *info;      /* LockInfo (what reports show of the lock) */
    Py_ssize_t depth;    /* RLock: the owner's acquires, changed by the owner only */
    PyObject *weakreflist;
} RW_Lock;

static PyTypeObject RW_LockBaseType, RW_RLockBaseType;

/* patches.context.thread_state: the calling thread's state while the detector is on and not
 * busy; NULL with no error when there is none to record. */
static RW_ThreadState *
current_state(void)
{
    if (!rw_enabled()) {
        return NULL;
    }
    RW_ThreadState *ts = rw_tls_state;
    if (ts == NULL && (ts = rw_current_slow()) == NULL) {
        PyErr_Clear();   /* no state to record into: the lock still works */
        return NULL;
    }
    return ts->busy ? NULL : ts;
}

static int
lock_check(RW_Lock *self)
{
    if (self->lock == NULL || self->sync == NULL || self->info == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "racewatch: a tracked lock used before _bind()");
        return -1;
    }
    return 0;
}

static int
on_acquire(RW_Lock *self)
{
    RW_ThreadState *ts = current_state();
    if (ts == NULL) {
        return 0;
    }
    if (rw_acquire((RW_SyncVar *)self->sync, ts, kind_acquire) < 0) {
        return -1;
    }
    return rw_hold(ts, self->info);
}

static int
on_release(RW_Lock *self)
{
    RW_ThreadState *ts = current_state();
    if (ts == NULL) {
        return 0;
    }
    if (rw_unhold(ts, self->info) < 0) {
        return -1;
    }
    return rw_release_store((RW_SyncVar *)self->sync, ts, kind_release);
}

static int
call_bool(PyObject *obj, PyObject *name)
{
    PyObject *result = PyObject_CallMethodNoArgs(obj, name);
    if (result == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(result);
    Py_DECREF(result);
    return truth;
}

static PyObject *
lock_bind(RW_Lock *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !Py_IS_TYPE(args[1], &RW_SyncVarType)) {
        PyErr_SetString(PyExc_TypeError, "_bind(lock, sync: SyncVar, info)");
        return NULL;
    }
    Py_XSETREF(self->lock, Py_NewRef(args[0]));
    Py_XSETREF(self->sync, Py_NewRef(args[1]));
    Py_XSETREF(self->info, Py_NewRef(args[2]));
    self->depth = 0;
    Py_RETURN_NONE;
}

/* acquire(blocking=True, timeout=-1): the real lock's, with the same arguments. */
static PyObject *
lock_acquire(RW_Lock *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (lock_check(self) < 0) {
        return NULL;
    }
    PyObject *method = PyObject_GetAttr(self->lock, str_acquire);
    if (method == NULL) {
        return NULL;
    }
    PyObject *ok = PyObject_Vectorcall(method, args, nargs, kwnames);
    Py_DECREF(method);
    if (ok == NULL) {
        return NULL;
    }
    int truth = PyObject_IsTrue(ok);
    if (truth > 0) {
        int is_rlock = PyType_IsSubtype(Py_TYPE(self), &RW_RLockBaseType);
        if (!is_rlock || ++self->depth == 1) {
            truth = on_acquire(self);
        }
    }
    if (truth < 0) {
        Py_DECREF(ok);
        return NULL;
    }
    return ok;
}

static PyObject *
lock_enter(RW_Lock *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *ok = lock_acquire(self, NULL, 0, NULL);
    if (ok == NULL) {
        return NULL;
    }
    Py_DECREF(ok);
    Py_RETURN_TRUE;
}

static PyObject *
lock_release(RW_Lock *self, PyObject *Py_UNUSED(ignored))
{
    if (lock_check(self) < 0) {
        return NULL;
    }
    int is_rlock = PyType_IsSubtype(Py_TYPE(self), &RW_RLockBaseType);
    if (is_rlock) {
        int owned = call_bool(self->lock, str_is_owned);
        if (owned < 0) {
            return NULL;
        }
        if (owned) {
            if (self->depth == 1 && on_release(self) < 0) {
                return NULL;
            }
            self->depth -= 1;   /* before the real release: another thread may take it */
        }
    }
    else {
        int locked = call_bool(self->lock, str_locked);
        if (locked < 0 || (locked && on_release(self) < 0)) {
            return NULL;
        }
    }
    return PyObject_CallMethodNoArgs(self->lock, str_release);
}

static PyObject *
lock_exit(RW_Lock *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
    return lock_release(self, NULL);
}

static PyObject *
lock_locked(RW_Lock *self, PyObject *Py_UNUSED(ignored))
{
    if (lock_check(self) < 0) {
        return NULL;
    }
    return PyObject_CallMethodNoArgs(self->lock, str_locked);
}

static PyObject *
lock_at_fork_reinit(RW_Lock *self, PyObject *Py_UNUSED(ignored))
{
    if (lock_check(self) < 0) {
        return NULL;
    }
    PyObject *done = PyObject_CallMethodNoArgs(self->lock, str_at_fork_reinit);
    if (done == NULL) {
        return NULL;
    }
    Py_DECREF(done);
    PyObject *sync = PyObject_CallOneArg((PyObject *)&RW_SyncVarType,
                                         ((RW_SyncVar *)self->sync)->label);
    if (sync == NULL) {
        return NULL;
    }
    Py_SETREF(self->sync, sync);
    self->depth = 0;
    Py_RETURN_NONE;
}

/* The real lock's repr, naming the tracked lock's address (the one id() gives). */
static PyObject *
lock_repr(RW_Lock *self)
{
    if (self->lock == NULL) {
        return PyUnicode_FromString("<unbound racewatch lock>");
    }
    PyObject *text = PyObject_Repr(self->lock);
    PyObject *real = text != NULL ? PyUnicode_FromFormat(" at %p>", self->lock) : NULL;
    PyObject *own = real != NULL ? PyUnicode_FromFormat(" at %p>", self) : NULL;
    PyObject *result = own != NULL ? PyUnicode_Replace(text, real, own, 1) : NULL;
    Py_XDECREF(own);
    Py_XDECREF(real);
    Py_XDECREF(text);
    return result;
}

/* RLock's Condition protocol: Condition.wait releases and re-acquires through these. */
static PyObject *
rlock_is_owned(RW_Lock *self, PyObject *Py_UNUSED(ignored))
{
    if (lock_check(self) < 0) {
        return NULL;
    }
    return PyObject_CallMethodNoArgs(self->lock, str_is_owned);
}

static PyObject *
rlock_release_save(RW_Lock *self, PyObject *Py_UNUSED(ignored))
{
    if (lock_check(self) < 0) {
        return NULL;
    }
    int owned = call_bool(self->lock, str_is_owned);
    if (owned < 0) {
        return NULL;
    }
    Py_ssize_t depth = 0;
    if (owned) {
        depth = self->depth;
        self->depth = 0;
        if (on_release(self) < 0) {
            return NULL;
        }
    }
    PyObject *state = PyObject_CallMethodNoArgs(self->lock, str_release_save);
    if (state == NULL) {
        return NULL;
    }
    return Py_BuildValue("(Nn)", state, depth);
}

static PyObject *
rlock_acquire_restore(RW_Lock *self, PyObject *saved)
{
    PyObject *state;
    Py_ssize_t depth;
    if (lock_check(self) < 0 || !PyArg_ParseTuple(saved, "On:_acquire_restore", &state, &depth)) {
        return NULL;
    }
    PyObject *done = PyObject_CallMethodOneArg(self->lock, str_acquire_restore, state);
    if (done == NULL) {
        return NULL;
    }
    Py_DECREF(done);
    self->depth = depth;
    if (on_acquire(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The Python subclasses (patches/locks.py) are heap types: their subtype_traverse and
 * subtype_dealloc visit and release the type, then call these. */
static int
lockbase_traverse(RW_Lock *self, visitproc visit, void *arg)
{
    Py_VISIT(self->lock);
    Py_VISIT(self->sync);
    Py_VISIT(self->info);
    return 0;
}

static int
lockbase_clear(RW_Lock *self)
{
    Py_CLEAR(self->lock);
    Py_CLEAR(self->sync);
    Py_CLEAR(self->info);
    return 0;
}

static void
lockbase_dealloc(RW_Lock *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    lockbase_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef lock_members[] = {
    {"_lock", T_OBJECT, offsetof(RW_Lock, lock), READONLY, "the real lock"},
    {"_sync", T_OBJECT, offsetof(RW_Lock, sync), READONLY, "its SyncVar"},
    {"_info", T_OBJECT, offsetof(RW_Lock, info), READONLY, "what reports show of it"},
    {"_depth", T_PYSSIZET, offsetof(RW_Lock, depth), READONLY, "RLock: the owner's depth"},
    {NULL}
};

#define LOCK_COMMON_METHODS \
    {"_bind", RW_CFUNC(lock_bind), METH_FASTCALL, "_bind(lock, sync, info)"}, \
    {"acquire", RW_CFUNC(lock_acquire), METH_FASTCALL | METH_KEYWORDS, \
     "acquire(blocking=True, timeout=-1): the real lock's, and an edge when taken"}, \
    {"__enter__", (PyCFunction)lock_enter, METH_NOARGS, NULL}, \
    {"release", (PyCFunction)lock_release, METH_NOARGS, \
     "release(): an edge to the next acquirer, then the real release"}, \
    {"__exit__", RW_CFUNC(lock_exit), METH_FASTCALL, NULL}, \
    {"_at_fork_reinit", (PyCFunction)lock_at_fork_reinit, METH_NOARGS, NULL}

static PyMethodDef lockbase_methods[] = {
    LOCK_COMMON_METHODS,
    {"locked", (PyCFunction)lock_locked, METH_NOARGS, NULL},
    {NULL}
};

static PyMethodDef rlockbase_methods[] = {
    LOCK_COMMON_METHODS,
    {"_is_owned", (PyCFunction)rlock_is_owned, METH_NOARGS, NULL},
    {"_release_save", (PyCFunction)rlock_release_save, METH_NOARGS, NULL},
    {"_acquire_restore", (PyCFunction)rlock_acquire_restore, METH_O, NULL},
    {NULL}
};

#define LOCK_TYPE_FIELDS \
    .tp_basicsize = sizeof(RW_Lock), \
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE, \
    .tp_new = PyType_GenericNew, \
    .tp_dealloc = (destructor)lockbase_dealloc, \
    .tp_traverse = (traverseproc)lockbase_traverse, \
    .tp_clear = (inquiry)lockbase_clear, \
    .tp_weaklistoffset = offsetof(RW_Lock, weakreflist), \
    .tp_repr = (reprfunc)lock_repr, \
    .tp_members = lock_members

static PyTypeObject RW_LockBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.LockBase",
    .tp_doc = "The methods of a tracked threading.Lock (patches/locks.py).",
    .tp_methods = lockbase_methods,
    LOCK_TYPE_FIELDS,
};

static PyTypeObject RW_RLockBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.RLockBase",
    .tp_doc = "The methods of a tracked threading.RLock (patches/locks.py).",
    .tp_methods = rlockbase_methods,
    LOCK_TYPE_FIELDS,
};

/* -- patches/context.py ------------------------------------------------------------------ */

static PyObject *
mod_thread_state(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    RW_ThreadState *ts = current_state();
    if (ts == NULL) {
        Py_RETURN_NONE;
    }
    return Py_NewRef((PyObject *)ts);
}

/* patches.context.building_internals */
static PyObject *
mod_building_internals(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    if (!rw_enabled()) {
        Py_RETURN_FALSE;
    }
    RW_ThreadState *ts = rw_tls_state;
    if (ts == NULL && (ts = rw_current_slow()) == NULL) {
        return NULL;
    }
    return PyBool_FromLong(ts->internal > 0);
}

/* patches.context.as_internal, a wrapt wrapper: wrapped(*args, **kwargs) with the calling
 * thread's ``internal`` raised, so that what it builds adds no edge. */
static PyObject *
mod_as_internal(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "as_internal(wrapped, instance, args, kwargs)");
        return NULL;
    }
    PyObject *wrapped = args[0], *call_args = args[2], *call_kwargs = args[3];
    if (!PyTuple_Check(call_args) || (call_kwargs != Py_None && !PyDict_Check(call_kwargs))) {
        PyErr_SetString(PyExc_TypeError, "as_internal: args must be a tuple, kwargs a dict");
        return NULL;
    }
    if (call_kwargs == Py_None) {
        call_kwargs = NULL;
    }
    if (!rw_enabled()) {
        return PyObject_Call(wrapped, call_args, call_kwargs);
    }
    RW_ThreadState *ts = rw_tls_state;
    if (ts == NULL && (ts = rw_current_slow()) == NULL) {
        return NULL;
    }
    Py_INCREF(ts);  /* the thread's state outlives the call even if it is replaced */
    ts->internal++;
    PyObject *result = PyObject_Call(wrapped, call_args, call_kwargs);
    ts->internal--;
    Py_DECREF(ts);
    return result;
}

static PyMethodDef context_functions[] = {
    {"building_internals", mod_building_internals, METH_NOARGS,
     "building_internals(): True inside as_internal (patches.context.building_internals)"},
    {"as_internal", RW_CFUNC(mod_as_internal), METH_FASTCALL,
     "as_internal(wrapped, instance, args, kwargs) (patches.context.as_internal)"},
    {"thread_state", mod_thread_state, METH_NOARGS,
     "thread_state(): the calling thread's state while the detector is on and the thread is "
     "not busy inside it, else None (patches.context.thread_state)"},
    {NULL}
};

int
rw_locks_ready(PyObject *module)
{
    static int strings = 0;
    if (!strings) {
        struct { PyObject **slot; const char *text; } names[] = {
            {&str_acquire, "acquire"}, {&str_release, "release"}, {&str_locked, "locked"},
            {&str_is_owned, "_is_owned"}, {&str_release_save, "_release_save"},
            {&str_acquire_restore, "_acquire_restore"},
            {&str_at_fork_reinit, "_at_fork_reinit"}, {&kind_acquire, "acquire"},
            {&kind_release, "release"},
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            *names[i].slot = PyUnicode_InternFromString(names[i].text);
            if (*names[i].slot == NULL) {
                return -1;
            }
        }
        if (PyType_Ready(&RW_LockBaseType) < 0 || PyType_Ready(&RW_RLockBaseType) < 0) {
            return -1;
        }
        strings = 1;
    }
    if (PyModule_AddObjectRef(module, "LockBase", (PyObject *)&RW_LockBaseType) < 0
            || PyModule_AddObjectRef(module, "RLockBase", (PyObject *)&RW_RLockBaseType) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, context_functions);
}
