/* The tracked locks' methods (patches/locks.py: LockBase, RLockBase).
 *
 * The Python classes Lock and RLock of patches/locks.py inherit these methods when the
 * compiled core runs; their edges are sync.c's operations, called directly.
 */

#include "core.h"
#include "tracked.h"

#include <sched.h>

static PyObject *str_at_fork_reinit, *kind_acquire, *kind_release, *empty_tuple;
static PyObject *false_tuple;   /* (False,): acquire(False) */

/* -- the real locks' own methods, called directly ----------------------------------------- */

/* A method of _thread.lock or _thread.RLock, as its type defines it (tracked.h's
 * base_method, loaded the same way): calling the C function costs a fraction of a Python
 * method call (looking the method up, binding it, the call). */
typedef base_method real_method;

enum { M_ACQUIRE, M_RELEASE, M_LOCKED, M_IS_OWNED, M_RELEASE_SAVE, M_ACQUIRE_RESTORE,
       M_COUNT };

typedef struct {
    PyTypeObject *type;
    real_method m[M_COUNT];
} real_lock;

static real_lock real_locks[2] = {
    {NULL, {[M_ACQUIRE] = {"acquire"}, [M_RELEASE] = {"release"}, [M_LOCKED] = {"locked"}}},
    {NULL, {[M_ACQUIRE] = {"acquire"}, [M_RELEASE] = {"release"},
            [M_IS_OWNED] = {"_is_owned"}, [M_RELEASE_SAVE] = {"_release_save"},
            [M_ACQUIRE_RESTORE] = {"_acquire_restore"}}},
};

static int
real_lock_load(real_lock *real, PyObject *type)
{
    real->type = (PyTypeObject *)type;
    for (int i = 0; i < M_COUNT; i++) {
        if (real->m[i].name != NULL && rw_base_method_load(&real->m[i], real->type) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The real lock's method ``which`` on ``lock`` (args: a vector, as METH_FASTCALL). */
static PyObject *
real_call(const real_lock *real, int which, PyObject *lock, PyObject *const *args,
          Py_ssize_t nargs, PyObject *kwnames)
{
    const real_method *m = &real->m[which];
    int kw = kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0;
    switch (m->flags & (METH_VARARGS | METH_FASTCALL | METH_NOARGS | METH_O | METH_KEYWORDS)) {
    case METH_NOARGS:
        if (nargs == 0 && !kw) {
            return m->meth(lock, NULL);
        }
        break;
    case METH_O:
        if (nargs == 1 && !kw) {
            return m->meth(lock, args[0]);
        }
        break;
    case METH_VARARGS | METH_KEYWORDS:
        if ((nargs == 0 || (nargs == 1 && args[0] == Py_False)) && !kw) {
            return ((PyCFunctionWithKeywords)(void (*)(void))m->meth)(
                lock, nargs == 0 ? empty_tuple : false_tuple, NULL);
        }
        break;
    case METH_FASTCALL:
        if (!kw) {
            return ((rw_fastfunc)(void (*)(void))m->meth)(lock, args, nargs);
        }
        break;
    case METH_FASTCALL | METH_KEYWORDS:
        return ((rw_fastkwfunc)(void (*)(void))m->meth)(lock, args, nargs, kwnames);
    default:
        break;
    }
    /* Anything else: the descriptor's own call, with the lock in front of the arguments. */
    Py_ssize_t total = nargs + (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *small[8];
    PyObject **stack = total < 8 ? small : PyMem_Malloc((size_t)(total + 1) * sizeof(PyObject *));
    if (stack == NULL) {
        return PyErr_NoMemory();
    }
    stack[0] = lock;
    for (Py_ssize_t i = 0; i < total; i++) {
        stack[i + 1] = args[i];
    }
    PyObject *result = PyObject_Vectorcall(m->descr, stack, nargs + 1, kwnames);
    if (stack != small) {
        PyMem_Free(stack);
    }
    return result;
}

/* -- LockBase and RLockBase (patches/locks.py) -------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *lock;      /* the real _thread.lock or _thread.RLock */
    PyObject *sync;      /* SyncVar */
    PyObject *info;      /* LockInfo (what reports show of the lock) */
    PyObject *alone;     /* (info,): what a thread holding only this lock holds */
    const real_lock *real;   /* the real lock's type and methods */
    Py_ssize_t depth;    /* RLock: the owner's acquires, changed by the owner only */
    PyObject *weakreflist;
#ifndef Py_GIL_DISABLED
    PyThread_type_lock gate;   /* see wait_turn */
    int waiters;
    char signaled;
    char held;           /* Lock: taken through these methods, not yet released */
    int real_waiters;    /* threads in a real acquire that can block (without the GIL) */
#endif
} RW_Lock;

static PyTypeObject RW_LockBaseType, RW_RLockBaseType;

static int
lock_check(RW_Lock *self)
{
    if (self->real == NULL || self->lock == NULL || self->sync == NULL || self->info == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "racewatch: a tracked lock used before _bind()");
        return -1;
    }
    return 0;
}

static inline int
is_rlock(RW_Lock *self)
{
    return self->real == &real_locks[1];
}

static int
on_acquire(RW_Lock *self)
{
    RW_ThreadState *ts = rw_patch_state();
    if (ts == NULL) {
        return 0;
    }
    if (rw_acquire_lock((RW_SyncVar *)self->sync, ts, kind_acquire) < 0) {
        return -1;
    }
    return rw_hold(ts, self->info, self->alone);
}

static int
on_release(RW_Lock *self)
{
    RW_ThreadState *ts = rw_patch_state();
    if (ts == NULL) {
        return 0;
    }
    if (rw_unhold(ts, self->info) < 0) {
        return -1;
    }
    return rw_release_store((RW_SyncVar *)self->sync, ts, kind_release);
}

/* The real lock's answer to a question (locked(), _is_owned()): 1, 0 or -1. */
static int
real_bool(RW_Lock *self, int which)
{
    PyObject *result = real_call(self->real, which, self->lock, NULL, 0, NULL);
    if (result == NULL) {
        return -1;
    }
    int truth = result == Py_True ? 1 : result == Py_False ? 0 : PyObject_IsTrue(result);
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
    const real_lock *real = &real_locks[PyObject_TypeCheck(self, &RW_RLockBaseType) ? 1 : 0];
    if (!Py_IS_TYPE(args[0], real->type)) {
        PyErr_Format(PyExc_TypeError, "_bind: the real lock must be a %.100s, not a %.100s",
                     real->type->tp_name, Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    PyObject *alone = PyTuple_Pack(1, args[2]);
    if (alone == NULL) {
        return NULL;
    }
    Py_XSETREF(self->lock, Py_NewRef(args[0]));
    Py_XSETREF(self->sync, Py_NewRef(args[1]));
    Py_XSETREF(self->info, Py_NewRef(args[2]));
    Py_XSETREF(self->alone, alone);
    self->real = real;
    self->depth = 0;
    Py_RETURN_NONE;
}

/* The real lock's acquire(False). */
static PyObject *
real_try(RW_Lock *self)
{
    PyObject *no[1] = {Py_False};
    return real_call(self->real, M_ACQUIRE, self->lock, no, 1, NULL);
}

/* sys.getswitchinterval() in nanoseconds, or 5 ms when it cannot be read. */
static long long
switch_interval_ns(void)
{
    PyObject *get = PySys_GetObject("getswitchinterval");   /* borrowed */
    PyObject *seconds = get != NULL ? PyObject_CallNoArgs(get) : NULL;
    double s = seconds != NULL ? PyFloat_AsDouble(seconds) : -1.0;
    Py_XDECREF(seconds);
    if (s < 0) {
        PyErr_Clear();
        return 5000000;
    }
    return (long long)(s * 1e9);
}

#ifdef Py_GIL_DISABLED
/* Free-threaded builds: a blocking acquire without a timeout.
 *
 * The real lock (a PyMutex) lets a waiter yield the CPU some forty times, then parks it;
 * and once a waiter is parked, each release wakes it, with a system call in the releasing
 * thread, and each acquire by another thread parks at once.  Two threads that take one
 * lock turn after turn then pass it at nearly every turn, two context switches each (a
 * convoy), and racewatch, which makes each critical section longer, makes one far more
 * likely than plain Python: in ``long_running`` (two threads, one lock, 600,000 turns)
 * 500,000 switches against 50,000.  So a waiter first tries the lock again between
 * batches of yields, and only then waits as the real lock does: the holder takes the lock
 * back without a system call, and does a run of turns before the waiter's next try finds
 * it free, as the GIL's switch interval lets it on GIL builds (wait_turn).
 *
 * Each batch has twice the yields of the one before (SPIN_FIRST to SPIN_MOST), for up to
 * one switch interval (and no more than CPython's default one, SPIN_NS: the waiter keeps
 * its CPU busy meanwhile): a lock held briefly is taken soon after its release, and one
 * that stays taken is tried ever more rarely.  Each time a waiter's try takes the lock
 * from a thread that would have taken it back, the data of the turns moves to the other
 * core's cache, and a thread of ``long_running`` did its next turns about a third slower
 * than it does alone: with a try every 64 yields, the lock changed threads some 5,500
 * times there, with the doubling batches 500-650 times.  No thread waits longer than a switch
 * interval more than it would with the real lock.  Between its tries the waiter is
 * detached, as a parked one would be: a stop-the-world pause of the collector does not
 * wait for it; after each batch it runs the signal handlers that are due (Ctrl-C), as a
 * parked one would when its wait is interrupted. */
#define SPIN_FIRST 8        /* yields before the second try */
#define SPIN_MOST 4096      /* yields between two tries at most (about 3 ms) */
#define SPIN_NS 5000000     /* 5 ms at most in all */

static PyObject *
spin_acquire(RW_Lock *self)
{
    PyObject *ok = real_try(self);
    if (ok != Py_False) {
        return ok;
    }
    Py_DECREF(ok);
    long long spin = switch_interval_ns();
    long long give_up = rw_monotonic_ns() + (spin < SPIN_NS ? spin : SPIN_NS);
    int yields = SPIN_FIRST;
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        for (int i = 0; i < yields; i++) {
            sched_yield();
        }
        Py_END_ALLOW_THREADS
        if (PyErr_CheckSignals() < 0) {
            return NULL;
        }
        yields = yields < SPIN_MOST ? 2 * yields : SPIN_MOST;
        ok = real_try(self);
        if (ok != Py_False) {
            return ok;
        }
        Py_DECREF(ok);
        if (rw_monotonic_ns() > give_up) {
            return real_call(self->real, M_ACQUIRE, self->lock, NULL, 0, NULL);
        }
    }
}
#else

/* A blocking acquire() without a timeout (the one ``with lock:`` makes), GIL builds.
 *
 * The real lock's blocking acquire takes the lock the moment it is released, before its
 * thread has the GIL back; the thread that released it, still running, finds it taken at
 * its next acquire and must give the GIL up: from then on every acquire is a hand-off
 * between threads, two context switches each (a lock convoy), and racewatch, which makes
 * every critical section longer, makes one far more likely than plain Python.  So a
 * waiter first waits for a release with the GIL released, and takes the lock only once it
 * has the GIL back, trying again after each release for up to one switch interval; then
 * it waits as the real lock does.  No thread waits longer than a switch interval more
 * than it would with the real lock, and none holds the lock while it waits for the GIL.
 *
 * ``gate`` is a lock held while nobody signals: a release signals it once (``signaled``)
 * while a thread waits; the woken waiter consumes the signal.  All but the wait itself
 * run with the GIL held. */
static PyObject *
wait_turn(RW_Lock *self)
{
    if (!(is_rlock(self) ? self->depth > 0 : self->held) && self->real_waiters == 0) {
        /* Nobody holds it, and nobody can take it without the GIL: the real acquire
         * without arguments (the cheapest call) takes it at once. */
        return real_call(self->real, M_ACQUIRE, self->lock, NULL, 0, NULL);
    }
    PyObject *ok = real_try(self);
    if (ok != Py_False) {
        return ok;
    }
    Py_DECREF(ok);
    if (self->gate == NULL) {
        PyThread_type_lock gate = PyThread_allocate_lock();
        if (gate == NULL) {
            return PyErr_NoMemory();
        }
        PyThread_acquire_lock(gate, NOWAIT_LOCK);
        self->gate = gate;
        self->signaled = 0;
    }
    long long give_up = rw_monotonic_ns() + switch_interval_ns();
    self->waiters++;
    for (;;) {
        long long left = give_up - rw_monotonic_ns();
        if (left <= 0) {
            self->waiters--;
            self->real_waiters++;
            ok = real_call(self->real, M_ACQUIRE, self->lock, NULL, 0, NULL);
            self->real_waiters--;
            return ok;
        }
        PyThread_type_lock gate = self->gate;
        PyLockStatus r;
        Py_BEGIN_ALLOW_THREADS
        r = PyThread_acquire_lock_timed(gate, (PY_TIMEOUT_T)(left / 1000 + 1), 1);
        Py_END_ALLOW_THREADS
        if (r == PY_LOCK_ACQUIRED) {
            self->signaled = 0;
        }
        else if (r == PY_LOCK_INTR && Py_MakePendingCalls() < 0) {
            self->waiters--;
            return NULL;
        }
        ok = real_try(self);
        if (ok != Py_False) {
            self->waiters--;
            return ok;
        }
        Py_DECREF(ok);
    }
}

/* After a real release: the next waiter's turn to try (wait_turn). */
static inline void
signal_turn(RW_Lock *self)
{
    if (self->waiters > 0 && !self->signaled) {
        self->signaled = 1;
        PyThread_release_lock(self->gate);
    }
}
#endif

/* acquire(blocking=True, timeout=-1): the real lock's, with the same arguments (a blocking
 * one without a timeout waits its turn on GIL builds, wait_turn, and spins a little first
 * on free-threaded ones, spin_acquire). */
static PyObject *
lock_acquire(RW_Lock *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (lock_check(self) < 0) {
        return NULL;
    }
    int forever = (nargs == 0 || (nargs == 1 && args[0] == Py_True))
                  && (kwnames == NULL || PyTuple_GET_SIZE(kwnames) == 0);
#ifndef Py_GIL_DISABLED
    PyObject *ok;
    if (forever) {
        ok = wait_turn(self);
    }
    else {
        self->real_waiters++;
        ok = real_call(self->real, M_ACQUIRE, self->lock, args, nargs, kwnames);
        self->real_waiters--;
    }
    if (ok == Py_True && !is_rlock(self)) {
        self->held = 1;
    }
#else
    PyObject *ok = forever ? spin_acquire(self)
                           : real_call(self->real, M_ACQUIRE, self->lock, args, nargs, kwnames);
#endif
    if (ok == NULL) {
        return NULL;
    }
    int truth = ok == Py_True ? 1 : ok == Py_False ? 0 : PyObject_IsTrue(ok);
    if (truth > 0 && (!is_rlock(self) || ++self->depth == 1)) {
        truth = on_acquire(self);
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
    if (is_rlock(self)) {
        int owned = real_bool(self, M_IS_OWNED);
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
        int locked = real_bool(self, M_LOCKED);
        if (locked < 0 || (locked && on_release(self) < 0)) {
            return NULL;
        }
    }
    PyObject *done = real_call(self->real, M_RELEASE, self->lock, NULL, 0, NULL);
#ifndef Py_GIL_DISABLED
    if (done != NULL) {
        self->held = 0;
        signal_turn(self);
    }
#endif
    return done;
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
    return real_call(self->real, M_LOCKED, self->lock, NULL, 0, NULL);
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
#ifndef Py_GIL_DISABLED
    self->gate = NULL;   /* the parent's, left as it is (as _at_fork_reinit leaves its lock) */
    self->waiters = 0;
    self->held = 0;
    self->real_waiters = 0;
#endif
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
    return real_call(self->real, M_IS_OWNED, self->lock, NULL, 0, NULL);
}

static PyObject *
rlock_release_save(RW_Lock *self, PyObject *Py_UNUSED(ignored))
{
    if (lock_check(self) < 0) {
        return NULL;
    }
    int owned = real_bool(self, M_IS_OWNED);
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
    PyObject *state = real_call(self->real, M_RELEASE_SAVE, self->lock, NULL, 0, NULL);
    if (state == NULL) {
        return NULL;
    }
#ifndef Py_GIL_DISABLED
    signal_turn(self);   /* Condition.wait let it go: a waiter's turn */
#endif
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
#ifndef Py_GIL_DISABLED
    self->real_waiters++;
#endif
    PyObject *done = real_call(self->real, M_ACQUIRE_RESTORE, self->lock, &state, 1, NULL);
#ifndef Py_GIL_DISABLED
    self->real_waiters--;
#endif
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
    Py_VISIT(self->alone);
    return 0;
}

static int
lockbase_clear(RW_Lock *self)
{
    Py_CLEAR(self->lock);
    Py_CLEAR(self->sync);
    Py_CLEAR(self->info);
    Py_CLEAR(self->alone);
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
#ifndef Py_GIL_DISABLED
    if (self->gate != NULL) {
        PyThread_free_lock(self->gate);
    }
#endif
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

/* Whether ``v`` is a tracked lock whose SyncVar is ``sv`` (compared by address). */
int
rw_is_lock_of(PyObject *v, const void *sv)
{
    return (PyObject_TypeCheck(v, &RW_LockBaseType) || PyObject_TypeCheck(v, &RW_RLockBaseType))
           && (const void *)((RW_Lock *)v)->sync == sv;
}

int
rw_locks_ready(PyObject *module)
{
    static int strings = 0;
    if (!strings) {
        struct { PyObject **slot; const char *text; } names[] = {
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
        empty_tuple = PyTuple_New(0);
        false_tuple = PyTuple_Pack(1, Py_False);
        PyObject *thread = PyImport_ImportModule("_thread");
        PyObject *lock_type = thread != NULL ? PyObject_GetAttrString(thread, "LockType") : NULL;
        PyObject *rlock_type = thread != NULL ? PyObject_GetAttrString(thread, "RLock") : NULL;
        int loaded = empty_tuple != NULL && false_tuple != NULL && lock_type != NULL && rlock_type != NULL
                     && PyType_Check(lock_type) && PyType_Check(rlock_type)
                     && real_lock_load(&real_locks[0], lock_type) == 0
                     && real_lock_load(&real_locks[1], rlock_type) == 0;
        Py_XDECREF(thread);
        Py_XDECREF(lock_type);   /* a type of a built-in module: it lives as long as we do */
        Py_XDECREF(rlock_type);
        if (!loaded) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_ImportError, "racewatch._core: no _thread lock types");
            }
            return -1;
        }
        strings = 1;
    }
    if (PyModule_AddObjectRef(module, "LockBase", (PyObject *)&RW_LockBaseType) < 0
            || PyModule_AddObjectRef(module, "RLockBase", (PyObject *)&RW_RLockBaseType) < 0) {
        return -1;
    }
    return 0;
}
