/* Happens-before edges (sync.py) and the tracked locks' methods (patches/locks.py).
 *
 * A patched `with lock:` costs about 1.7 us in Python, ten times the lock itself, and
 * programs that take a lock around every dict access pay it twice per access; here the
 * same edges cost a few hundred nanoseconds.  Every function mirrors the one of the same
 * name in sync.py, and LockBase/RLockBase the methods of patches/locks.py (the Python
 * classes there inherit these when the compiled core runs).
 *
 * Consistency: a thread's clock is changed only by that thread.  A sync object's state is
 * one immutable (clock, releaser) tuple, replaced whole, so an acquire never sees half a
 * clock.  On free-threaded builds it is read and replaced under the object's critical
 * section: an Event set again while another thread sees it set replaces the tuple that
 * thread is taking a reference to (without the section, the reference could be taken to a
 * tuple already freed).  release_join, which reads and then replaces it, runs under the
 * section, and with no Python code in between on GIL builds (the clocks hold small ints:
 * comparing them calls nothing).  A replaced tuple is released outside the section.
 */

#include "core.h"

static PyObject *str_acquire, *str_release, *str_locked, *str_is_owned, *str_release_save,
    *str_acquire_restore, *str_at_fork_reinit, *str_events, *str_append,
    *kind_acquire, *kind_release, *dir_acquire, *dir_release;

/* -- SyncVar ---------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *state;    /* None, or (clock: list[int], releaser: ThreadState or None) */
    PyObject *label;    /* "Lock#3", "Queue#1"... */
} RW_SyncVar;

static PyTypeObject RW_SyncVarType;

static PyObject *
syncvar_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"label", NULL};
    PyObject *label = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|U:SyncVar", kwlist, &label)) {
        return NULL;
    }
    RW_SyncVar *sv = (RW_SyncVar *)type->tp_alloc(type, 0);
    if (sv == NULL) {
        return NULL;
    }
    sv->state = Py_NewRef(Py_None);
    sv->label = label != NULL ? Py_NewRef(label) : PyUnicode_FromString("");
    if (sv->label == NULL) {
        Py_DECREF(sv);
        return NULL;
    }
    return (PyObject *)sv;
}

static int
syncvar_traverse(RW_SyncVar *sv, visitproc visit, void *arg)
{
    Py_VISIT(sv->state);
    Py_VISIT(sv->label);
    return 0;
}

static int
syncvar_clear(RW_SyncVar *sv)
{
    Py_CLEAR(sv->state);
    Py_CLEAR(sv->label);
    return 0;
}

static void
syncvar_dealloc(RW_SyncVar *sv)
{
    PyObject_GC_UnTrack(sv);
    syncvar_clear(sv);
    Py_TYPE(sv)->tp_free((PyObject *)sv);
}

static PyMemberDef syncvar_members[] = {
    {"state", T_OBJECT_EX, offsetof(RW_SyncVar, state), 0,
     "None, or (clock, releaser): the clock the last releases published"},
    {"label", T_OBJECT_EX, offsetof(RW_SyncVar, label), 0, "the object's name in reports"},
    {NULL}
};

static PyTypeObject RW_SyncVarType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.SyncVar",
    .tp_doc = "The clock that a lock, event, queue item, future... carries between threads.",
    .tp_basicsize = sizeof(RW_SyncVar),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = syncvar_new,
    .tp_dealloc = (destructor)syncvar_dealloc,
    .tp_traverse = (traverseproc)syncvar_traverse,
    .tp_clear = (inquiry)syncvar_clear,
    .tp_members = syncvar_members,
};

/* -- clocks ----------------------------------------------------------------------------- */

static int
tick(RW_ThreadState *ts)
{
    if (ts->slot >= PyList_GET_SIZE(ts->vc)) {
        PyErr_SetString(PyExc_IndexError, "racewatch: a thread's slot out of its clock");
        return -1;
    }
    PyObject *value = PyLong_FromLongLong(ts->clock + 1);
    if (value == NULL) {
        return -1;
    }
    PyList_SetItem(ts->vc, ts->slot, value);   /* steals value */
    ts->clock += 1;
    return 0;
}

/* target := target ⊔ source, in place (target is the calling thread's own clock). */
static int
join_into(PyObject *target, PyObject *source)
{
    if (!PyList_Check(target) || !PyList_Check(source)) {
        PyErr_SetString(PyExc_TypeError, "racewatch: a clock is a list of ints");
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(source);
    while (PyList_GET_SIZE(target) < n) {
        PyObject *zero = PyLong_FromLong(0);
        if (zero == NULL || PyList_Append(target, zero) < 0) {
            Py_XDECREF(zero);
            return -1;
        }
        Py_DECREF(zero);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyList_GET_ITEM(source, i);
        PyObject *t = PyList_GET_ITEM(target, i);
        if (s == t) {
            continue;
        }
        long long sv = PyLong_AsLongLong(s), tv = PyLong_AsLongLong(t);
        if ((sv == -1 || tv == -1) && PyErr_Occurred()) {
            return -1;
        }
        if (sv > tv) {
            PyList_SetItem(target, i, Py_NewRef(s));
        }
    }
    return 0;
}

/* A new clock a ⊔ b (a may be None). */
static PyObject *
joined(PyObject *a, PyObject *b)
{
    PyObject *result = PyList_GetSlice(b, 0, PyList_GET_SIZE(b));
    if (result == NULL || a == Py_None) {
        return result;
    }
    if (join_into(result, a) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    return result;
}

static PyObject *
copy_clock(RW_ThreadState *ts)
{
    return PyList_GetSlice(ts->vc, 0, PyList_GET_SIZE(ts->vc));
}

/* -- events ----------------------------------------------------------------------------- */

/* sync.note: (monotonic ns, kind, label, direction, stack of one frame) on the thread's
 * ring of recent events, for the timeline of a later race. */
static int
note(RW_ThreadState *ts, PyObject *kind, PyObject *label, PyObject *direction, PyObject *where)
{
    PyObject *events = PyObject_GetAttr(ts->info, str_events);
    if (events == NULL) {
        return -1;
    }
    PyObject *stack = where != NULL && where != Py_None ? Py_NewRef(where)
                                                        : rw_capture(1, NULL, NULL);
    PyObject *now = stack != NULL ? PyLong_FromLongLong(rw_monotonic_ns()) : NULL;
    PyObject *event = now != NULL ? PyTuple_Pack(5, now, kind, label, direction, stack) : NULL;
    PyObject *done = event != NULL ? PyObject_CallMethodOneArg(events, str_append, event) : NULL;
    Py_XDECREF(done);
    Py_XDECREF(event);
    Py_XDECREF(now);
    Py_XDECREF(stack);
    Py_DECREF(events);
    return done != NULL ? 0 : -1;
}

static int
release_store(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind)
{
    if (note(ts, kind, sv->label, dir_release, NULL) < 0) {
        return -1;
    }
    PyObject *clock = copy_clock(ts);
    PyObject *state = clock != NULL ? PyTuple_Pack(2, clock, (PyObject *)ts) : NULL;
    Py_XDECREF(clock);
    if (state == NULL) {
        return -1;
    }
    PyObject *old;
    Py_BEGIN_CRITICAL_SECTION(sv);
    old = sv->state;
    sv->state = state;
    Py_END_CRITICAL_SECTION();
    Py_DECREF(old);
    return tick(ts);
}

static int
release_join(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind)
{
    if (note(ts, kind, sv->label, dir_release, NULL) < 0) {
        return -1;
    }
    int status = -1;
    PyObject *old = NULL;
    Py_BEGIN_CRITICAL_SECTION(sv);
    PyObject *prev = sv->state;
    PyObject *clock = joined(PyTuple_Check(prev) ? PyTuple_GET_ITEM(prev, 0) : Py_None, ts->vc);
    PyObject *state = clock != NULL ? PyTuple_Pack(2, clock, Py_None) : NULL;
    Py_XDECREF(clock);
    if (state != NULL) {
        old = prev;
        sv->state = state;
        status = 0;
    }
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(old);
    return status < 0 ? -1 : tick(ts);
}

static int
acquire(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind)
{
    if (note(ts, kind, sv->label, dir_acquire, NULL) < 0) {
        return -1;
    }
    PyObject *state;
    Py_BEGIN_CRITICAL_SECTION(sv);
    state = Py_NewRef(sv->state);   /* one read of one immutable tuple */
    Py_END_CRITICAL_SECTION();
    int status = 0;
    if (PyTuple_Check(state) && PyTuple_GET_ITEM(state, 1) != (PyObject *)ts) {
        status = join_into(ts->vc, PyTuple_GET_ITEM(state, 0));
    }
    Py_DECREF(state);
    return status;
}

static int
hold(RW_ThreadState *ts, PyObject *info)
{
    Py_ssize_t n = PyTuple_GET_SIZE(ts->held);
    PyObject *held = PyTuple_New(n + 1);
    if (held == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTuple_SET_ITEM(held, i, Py_NewRef(PyTuple_GET_ITEM(ts->held, i)));
    }
    PyTuple_SET_ITEM(held, n, Py_NewRef(info));
    Py_SETREF(ts->held, held);
    return 0;
}

static int
unhold(RW_ThreadState *ts, PyObject *info)
{
    Py_ssize_t n = PyTuple_GET_SIZE(ts->held);
    Py_ssize_t at = n - 1;
    while (at >= 0 && PyTuple_GET_ITEM(ts->held, at) != info) {
        at--;
    }
    if (at < 0) {
        return 0;
    }
    PyObject *held = PyTuple_New(n - 1);
    if (held == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0, j = 0; i < n; i++) {
        if (i != at) {
            PyTuple_SET_ITEM(held, j++, Py_NewRef(PyTuple_GET_ITEM(ts->held, i)));
        }
    }
    Py_SETREF(ts->held, held);
    return 0;
}

/* -- the module functions, with sync.py's signatures ------------------------------------- */

static int
parse_common(Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max, const char *name)
{
    if (nargs < min || nargs > max) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd arguments (%zd given)", name, min,
                     max, nargs);
        return -1;
    }
    return 0;
}

static RW_SyncVar *
as_syncvar(PyObject *obj)
{
    if (!Py_IS_TYPE(obj, &RW_SyncVarType)) {
        PyErr_Format(PyExc_TypeError, "expected a SyncVar, got %.100s", Py_TYPE(obj)->tp_name);
        return NULL;
    }
    return (RW_SyncVar *)obj;
}

static RW_ThreadState *
as_state(PyObject *obj)
{
    if (!Py_IS_TYPE(obj, &RW_ThreadStateType)) {
        PyErr_Format(PyExc_TypeError, "expected a ThreadState, got %.100s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    return (RW_ThreadState *)obj;
}

#define RW_RETURN_NONE_IF_OK(expr) do { if ((expr) < 0) return NULL; Py_RETURN_NONE; } while (0)

static PyObject *
mod_note(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    if (parse_common(nargs, 4, 5, "note") < 0) {
        return NULL;
    }
    RW_ThreadState *ts = as_state(args[0]);
    if (ts == NULL) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(note(ts, args[1], args[2], args[3], nargs > 4 ? args[4] : NULL));
}

static PyObject *
mod_release_store(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_SyncVar *sv;
    RW_ThreadState *ts;
    if (parse_common(nargs, 2, 3, "release_store") < 0
            || (sv = as_syncvar(args[0])) == NULL || (ts = as_state(args[1])) == NULL) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(release_store(sv, ts, nargs > 2 ? args[2] : kind_release));
}

static PyObject *
mod_release_join(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_SyncVar *sv;
    RW_ThreadState *ts;
    if (parse_common(nargs, 2, 3, "release_join") < 0
            || (sv = as_syncvar(args[0])) == NULL || (ts = as_state(args[1])) == NULL) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(release_join(sv, ts, nargs > 2 ? args[2] : kind_release));
}

static PyObject *
mod_acquire(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_SyncVar *sv;
    RW_ThreadState *ts;
    if (parse_common(nargs, 2, 3, "acquire") < 0
            || (sv = as_syncvar(args[0])) == NULL || (ts = as_state(args[1])) == NULL) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(acquire(sv, ts, nargs > 2 ? args[2] : kind_acquire));
}

static PyObject *
mod_snapshot(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_ThreadState *ts;
    if (parse_common(nargs, 3, 3, "snapshot") < 0 || (ts = as_state(args[0])) == NULL
            || note(ts, args[1], args[2], dir_release, NULL) < 0) {
        return NULL;
    }
    PyObject *clock = copy_clock(ts);
    if (clock != NULL && tick(ts) < 0) {
        Py_CLEAR(clock);
    }
    return clock;
}

static PyObject *
mod_acquire_clock(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_ThreadState *ts;
    if (parse_common(nargs, 4, 4, "acquire_clock") < 0 || (ts = as_state(args[0])) == NULL
            || note(ts, args[2], args[3], dir_acquire, NULL) < 0) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(args[1] == Py_None ? 0 : join_into(ts->vc, args[1]));
}

static PyObject *
mod_hold(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_ThreadState *ts;
    if (parse_common(nargs, 2, 2, "hold") < 0 || (ts = as_state(args[0])) == NULL) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(hold(ts, args[1]));
}

static PyObject *
mod_unhold(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_ThreadState *ts;
    if (parse_common(nargs, 2, 2, "unhold") < 0 || (ts = as_state(args[0])) == NULL) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(unhold(ts, args[1]));
}

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
    if (acquire((RW_SyncVar *)self->sync, ts, kind_acquire) < 0) {
        return -1;
    }
    return hold(ts, self->info);
}

static int
on_release(RW_Lock *self)
{
    RW_ThreadState *ts = current_state();
    if (ts == NULL) {
        return 0;
    }
    if (unhold(ts, self->info) < 0) {
        return -1;
    }
    return release_store((RW_SyncVar *)self->sync, ts, kind_release);
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

static PyObject *
lock_repr(RW_Lock *self)
{
    return self->lock != NULL ? PyObject_Repr(self->lock)
                              : PyUnicode_FromString("<unbound racewatch lock>");
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

/* -- the module ------------------------------------------------------------------------- */

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

static PyMethodDef sync_functions[] = {
    {"building_internals", mod_building_internals, METH_NOARGS,
     "building_internals(): True inside as_internal (patches.context.building_internals)"},
    {"as_internal", RW_CFUNC(mod_as_internal), METH_FASTCALL,
     "as_internal(wrapped, instance, args, kwargs) (patches.context.as_internal)"},
    {"thread_state", mod_thread_state, METH_NOARGS,
     "thread_state(): the calling thread's state while the detector is on and the thread is "
     "not busy inside it, else None (patches.context.thread_state)"},
    {"note", RW_CFUNC(mod_note), METH_FASTCALL, "note(ts, kind, label, direction, where=None)"},
    {"release_store", RW_CFUNC(mod_release_store), METH_FASTCALL,
     "release_store(sv, ts, kind='release')"},
    {"release_join", RW_CFUNC(mod_release_join), METH_FASTCALL,
     "release_join(sv, ts, kind='release')"},
    {"acquire", RW_CFUNC(mod_acquire), METH_FASTCALL, "acquire(sv, ts, kind='acquire')"},
    {"snapshot", RW_CFUNC(mod_snapshot), METH_FASTCALL, "snapshot(ts, kind, label)"},
    {"acquire_clock", RW_CFUNC(mod_acquire_clock), METH_FASTCALL,
     "acquire_clock(ts, clock, kind, label)"},
    {"hold", RW_CFUNC(mod_hold), METH_FASTCALL, "hold(ts, lock_info)"},
    {"unhold", RW_CFUNC(mod_unhold), METH_FASTCALL, "unhold(ts, lock_info)"},
    {NULL}
};

int
rw_sync_ready(PyObject *module)
{
    static int strings = 0;
    if (!strings) {
        struct { PyObject **slot; const char *text; } names[] = {
            {&str_acquire, "acquire"}, {&str_release, "release"}, {&str_locked, "locked"},
            {&str_is_owned, "_is_owned"}, {&str_release_save, "_release_save"},
            {&str_acquire_restore, "_acquire_restore"},
            {&str_at_fork_reinit, "_at_fork_reinit"}, {&str_events, "events"},
            {&str_append, "append"}, {&kind_acquire, "acquire"}, {&kind_release, "release"},
            {&dir_acquire, "acquire"}, {&dir_release, "release"},
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            *names[i].slot = PyUnicode_InternFromString(names[i].text);
            if (*names[i].slot == NULL) {
                return -1;
            }
        }
        if (PyType_Ready(&RW_SyncVarType) < 0 || PyType_Ready(&RW_LockBaseType) < 0
                || PyType_Ready(&RW_RLockBaseType) < 0) {
            return -1;
        }
        strings = 1;
    }
    if (PyModule_AddObjectRef(module, "SyncVar", (PyObject *)&RW_SyncVarType) < 0
            || PyModule_AddObjectRef(module, "LockBase", (PyObject *)&RW_LockBaseType) < 0
            || PyModule_AddObjectRef(module, "RLockBase", (PyObject *)&RW_RLockBaseType) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, sync_functions);
}
