/* Happens-before edges: SyncVar and the clock operations of sync.py.
 *
 * A patched `with lock:` costs about 1.7 us in Python, ten times the lock itself, and
 * programs that take a lock around every dict access pay it twice per access; here the
 * same edges cost a few hundred nanoseconds.  Every function mirrors the one of the same
 * name in sync.py; the tracked locks (locks.c) call them directly.
 *
 * Consistency: a thread's clock is changed only by that thread.  A sync object's state is
 * one (clock, releaser) tuple that never changes while anyone else holds it, replaced whole,
 * so an acquire never sees half a clock (release_store overwrites it in place only when
 * nothing else holds it, on GIL builds: see republish_in_place).  On free-threaded builds
 * it is read and replaced under the object's critical section: an Event set again while
 * another thread sees it set replaces the tuple that thread is taking a reference to
 * (without the section, the reference could be taken to a tuple already freed).
 * release_join, which reads and then replaces it, runs under the section, and with no
 * Python code in between on GIL builds (the clocks hold small ints: comparing them calls
 * nothing).  A replaced tuple is released outside the section.  Each event is noted on
 * the thread's own ring (events.c).
 */

#include "core.h"

static PyObject *str_events, *kind_acquire, *kind_release, *dir_acquire,
    *dir_release;

/* -- SyncVar ---------------------------------------------------------------------------- */

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

PyTypeObject RW_SyncVarType = {
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

/* An entry of a clock (a small int: comparing them calls nothing). */
static inline long long
vc_value(PyObject *v)
{
    long long x = PyLong_AsLongLong(v);
    if (x == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return x;
}

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

/* -- the epoch a lock's release ends ------------------------------------------------------ *
 * A publication ends its thread's epoch: what the thread does after it must not be ordered
 * before whoever joins the published clock.  A lock's release (rw_release_store) leaves the
 * thread ``pending`` instead of ticking at once: the tick comes before the thread's next
 * access (rw_enter_thread_as) or publication, unless the thread takes the same lock again
 * first while nobody else took it (rw_acquire_lock).  Then nobody has joined the epoch (it
 * went only into that lock, and whoever took the lock since would have released it with a
 * clock of its own), and the thread goes on in it, as if it had held the lock throughout:
 * a loop of ``with lock:`` by one thread that no other thread takes the lock from meanwhile
 * keeps one epoch, and its accesses after the first round stay on the fast path.  sync.py
 * says it in Python. */

int
rw_settle_pending(RW_ThreadState *ts)
{
    if (!ts->pending) {
        return 0;
    }
    ts->pending = 0;
    ts->pending_sv = NULL;
    if (tick(ts) < 0) {
        return -1;
    }
    return ts->deferred.target != NULL ? rw_replay_deferred(ts) : 0;
}

/* Before a join into the thread's clock: a deferred read is recorded in the next epoch
 * with the clock it was made with (what the thread learns by the join came after it). */
static inline int
settle_before_join(RW_ThreadState *ts)
{
    return ts->deferred.target != NULL ? rw_settle_pending(ts) : 0;
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

/* A copy of clock ``c``, kept out of the garbage collector's lists: a clock holds small
 * ints only, and a program that hands over many objects (a future, a queue item) keeps one
 * alive for each, which every collection would otherwise visit. */
static PyObject *
clock_copy(PyObject *c)
{
    PyObject *result = PyList_GetSlice(c, 0, PyList_GET_SIZE(c));
    if (result != NULL) {
        PyObject_GC_UnTrack(result);   /* not shared yet */
    }
    return result;
}

/* A new clock a ⊔ b (a may be None). */
static PyObject *
joined(PyObject *a, PyObject *b)
{
    PyObject *result = clock_copy(b);
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
    return clock_copy(ts->vc);
}

/* -- events ----------------------------------------------------------------------------- */

/* The ring of ``ts``'s thread info (ThreadInfo.events), looked up once per info. */
static RW_EventRing *
ring_of(RW_ThreadState *ts)
{
    if (ts->events_info != ts->info || ts->events == NULL) {
        PyObject *events = PyObject_GetAttr(ts->info, str_events);
        if (events == NULL) {
            return NULL;
        }
        if (!Py_IS_TYPE(events, &RW_EventRingType)) {
            PyErr_Format(PyExc_TypeError, "racewatch: ThreadInfo.events is a %.100s, not an "
                         "EventRing", Py_TYPE(events)->tp_name);
            Py_DECREF(events);
            return NULL;
        }
        Py_XSETREF(ts->events, (RW_EventRing *)events);
        Py_XSETREF(ts->events_info, Py_NewRef(ts->info));
    }
    return ts->events;
}

/* sync.note: (monotonic ns, kind, label, direction, where) on the thread's ring of recent
 * events, for the timeline of a later race.  ``where`` defaults to the innermost frame of
 * the program (the one frame capture(1) would give), kept as its code and offset. */
static int
note(RW_ThreadState *ts, PyObject *kind, PyObject *label, PyObject *direction, PyObject *where)
{
    RW_EventRing *ring = ring_of(ts);
    if (ring == NULL) {
        return -1;
    }
    long long now = rw_monotonic_ns();
    if (where != NULL && where != Py_None) {
        rw_ring_note(ring, now, kind, label, direction, where, 0, 1);
        return 0;
    }
    rw_frame_key frame;
    if (rw_innermost_frame(ts, &frame) == 0) {
        frame.code = NULL;
        frame.lasti = 0;
    }
    rw_ring_note(ring, now, kind, label, direction, (PyObject *)frame.code, frame.lasti, 0);
    return 0;
}

/* Publish ``ts``'s clock in ``sv`` by overwriting the pair it holds, when nothing else
 * holds that pair or its clock (an acquirer holds a reference of its own while it reads
 * them, and so does Python code that looked at ``state``): nothing can see them change, and
 * no Python code runs until they are whole (dropping an int runs none; the old releaser is
 * let go last).  A lock released in a loop then allocates nothing.  1 when done, 0 when a
 * new pair is needed.  Free-threaded builds, whose reference counts are not exact from
 * another thread, never change a pair; but one that holds ``ts`` and its clock as it is
 * now says already what a new pair would (a thread that takes its own lock back goes on
 * in the epoch it published it in: rw_acquire_lock), and is kept. */
static int
republish_in_place(RW_SyncVar *sv, RW_ThreadState *ts)
{
#ifdef Py_GIL_DISABLED
    int same = 1;
    Py_BEGIN_CRITICAL_SECTION(sv);
    PyObject *state = sv->state;
    PyObject *clock = PyTuple_CheckExact(state) ? PyTuple_GET_ITEM(state, 0) : NULL;
    Py_ssize_t n = PyList_GET_SIZE(ts->vc);   /* changed only by its own thread */
    if (clock == NULL || PyTuple_GET_ITEM(state, 1) != (PyObject *)ts
            || !PyList_CheckExact(clock) || PyList_GET_SIZE(clock) != n) {
        same = 0;
    }
    for (Py_ssize_t i = 0; same && i < n; i++) {
        same = PyList_GET_ITEM(clock, i) == PyList_GET_ITEM(ts->vc, i);
    }
    Py_END_CRITICAL_SECTION();
    return same;
#else
    PyObject *state = sv->state;
    if (!PyTuple_CheckExact(state) || Py_REFCNT(state) != 1) {
        return 0;
    }
    PyObject *clock = PyTuple_GET_ITEM(state, 0);
    Py_ssize_t n = PyList_GET_SIZE(ts->vc);
    if (!PyList_CheckExact(clock) || Py_REFCNT(clock) != 1 || PyList_GET_SIZE(clock) != n) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyList_GET_ITEM(ts->vc, i);
        PyObject *old = PyList_GET_ITEM(clock, i);
        if (v != old) {
            PyList_SET_ITEM(clock, i, Py_NewRef(v));
            Py_DECREF(old);
        }
    }
    PyObject *releaser = PyTuple_GET_ITEM(state, 1);
    if (releaser != (PyObject *)ts) {
        PyTuple_SET_ITEM(state, 1, Py_NewRef((PyObject *)ts));
        Py_DECREF(releaser);
    }
    return 1;
#endif
}

/* ``ts`` published its epoch in ``sv`` by a lock's release: the tick waits (above). */
static int
published(RW_SyncVar *sv, RW_ThreadState *ts)
{
    ts->pending = 1;
    ts->pending_sv = sv;
    return 0;
}

int
rw_release_store(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind)
{
    if (rw_settle_pending(ts) < 0 || note(ts, kind, sv->label, dir_release, NULL) < 0) {
        return -1;
    }
    if (republish_in_place(sv, ts)) {
        return published(sv, ts);
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
    return published(sv, ts);
}

static int
release_join(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind)
{
    if (rw_settle_pending(ts) < 0 || note(ts, kind, sv->label, dir_release, NULL) < 0) {
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
        PyObject_GC_UnTrack(state);   /* an untracked clock and None (clock_copy) */
        old = prev;
        sv->state = state;
        status = 0;
    }
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(old);
    return status < 0 ? -1 : tick(ts);
}

/* FastTrack's rule for a lock's clock: nothing to join when the acquirer already knows the
 * epoch in which the releaser published ``state`` (a (clock, releaser) pair).  Exact, as
 * sync.py's _releaser_epoch_known proves: every publication ticks before its thread's next
 * access or publication, so T publishes at most one clock per epoch that anybody joins
 * (rw_acquire_lock lets T publish a lock again in one epoch only when nobody joined it);
 * while T lives every value >= e on its slot r is T's, and a clock
 * holds one only by having joined what T published in that epoch or later, which contains
 * the clock T published at the end of epoch e.  A dead releaser's slot may be someone
 * else's now: then the clocks are joined.  ``dead`` is set before the slot is freed, under
 * the registry's lock, and never reset. */
static int
releaser_epoch_known(PyObject *state, RW_ThreadState *ts)
{
    PyObject *releaser = PyTuple_GET_ITEM(state, 1);
    if (releaser == (PyObject *)ts) {
        return 1;
    }
    if (!Py_IS_TYPE(releaser, &RW_ThreadStateType)) {
        return 0;   /* None: a clock joined from several releases */
    }
    RW_ThreadState *rel = (RW_ThreadState *)releaser;
    if (RW_LOAD(&rel->dead)) {
        return 0;
    }
    PyObject *clock = PyTuple_GET_ITEM(state, 0);
    if (!PyList_Check(clock) || rel->slot >= PyList_GET_SIZE(clock)) {
        return 0;
    }
    PyObject *mine = rel->slot < PyList_GET_SIZE(ts->vc) ? PyList_GET_ITEM(ts->vc, rel->slot)
                                                          : NULL;
    PyObject *theirs = PyList_GET_ITEM(clock, rel->slot);
    if (mine == theirs) {
        return 1;
    }
    return mine != NULL && vc_value(mine) >= vc_value(theirs);
}

int
rw_acquire(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind)
{
    if (settle_before_join(ts) < 0 || note(ts, kind, sv->label, dir_acquire, NULL) < 0) {
        return -1;
    }
    PyObject *state;
    Py_BEGIN_CRITICAL_SECTION(sv);
    state = Py_NewRef(sv->state);   /* one read of one immutable tuple */
    Py_END_CRITICAL_SECTION();
    int status = 0;
    if (PyTuple_Check(state) && !releaser_epoch_known(state, ts)) {
        status = join_into(ts->vc, PyTuple_GET_ITEM(state, 0));
    }
    Py_DECREF(state);
    return status;
}

int
rw_acquire_lock(RW_SyncVar *sv, RW_ThreadState *ts, PyObject *kind)
{
    if (ts->pending && ts->pending_sv == (const void *)sv) {
        /* Taken again by the thread that released it last, in the epoch it released it
         * in: nobody took it meanwhile (whoever had, would have released it with a clock
         * of its own, as the lock's pair would show), so nobody joined that epoch. */
        int same;
        Py_BEGIN_CRITICAL_SECTION(sv);
        PyObject *state = sv->state;
        same = PyTuple_Check(state) && PyTuple_GET_ITEM(state, 1) == (PyObject *)ts
               && PyList_Check(PyTuple_GET_ITEM(state, 0))
               && ts->slot < PyList_GET_SIZE(PyTuple_GET_ITEM(state, 0))
               && vc_value(PyList_GET_ITEM(PyTuple_GET_ITEM(state, 0), ts->slot)) == ts->clock;
        Py_END_CRITICAL_SECTION();
        if (same) {
            ts->pending = 0;
            ts->pending_sv = NULL;
            rw_drop_deferred(ts);   /* made in this epoch, which goes on */
        }
    }
    return rw_acquire(sv, ts, kind);
}

/* The tuple of locks held, with ``info`` added; ``alone`` (optional) is ``(info,)``, made
 * once per lock, for the usual case of a thread that holds no other. */
int
rw_hold(RW_ThreadState *ts, PyObject *info, PyObject *alone)
{
    Py_ssize_t n = PyTuple_GET_SIZE(ts->held);
    if (n == 0 && alone != NULL) {
        Py_SETREF(ts->held, Py_NewRef(alone));
        return 0;
    }
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

int
rw_unhold(RW_ThreadState *ts, PyObject *info)
{
    Py_ssize_t n = PyTuple_GET_SIZE(ts->held);
    Py_ssize_t at = n - 1;
    while (at >= 0 && PyTuple_GET_ITEM(ts->held, at) != info) {
        at--;
    }
    if (at < 0) {
        return 0;
    }
    PyObject *held = PyTuple_New(n - 1);   /* the empty tuple is a singleton */
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
    RW_RETURN_NONE_IF_OK(rw_release_store(sv, ts, nargs > 2 ? args[2] : kind_release));
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
    RW_RETURN_NONE_IF_OK(rw_acquire(sv, ts, nargs > 2 ? args[2] : kind_acquire));
}

static PyObject *
mod_acquire_lock(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_SyncVar *sv;
    RW_ThreadState *ts;
    if (parse_common(nargs, 2, 3, "acquire_lock") < 0
            || (sv = as_syncvar(args[0])) == NULL || (ts = as_state(args[1])) == NULL) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(rw_acquire_lock(sv, ts, nargs > 2 ? args[2] : kind_acquire));
}

static PyObject *
mod_snapshot(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_ThreadState *ts;
    if (parse_common(nargs, 3, 3, "snapshot") < 0 || (ts = as_state(args[0])) == NULL
            || rw_settle_pending(ts) < 0 || note(ts, args[1], args[2], dir_release, NULL) < 0) {
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
            || settle_before_join(ts) < 0 || note(ts, args[2], args[3], dir_acquire, NULL) < 0) {
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
    RW_RETURN_NONE_IF_OK(rw_hold(ts, args[1], NULL));
}

static PyObject *
mod_unhold(PyObject *Py_UNUSED(self), PyObject *const *args, Py_ssize_t nargs)
{
    RW_ThreadState *ts;
    if (parse_common(nargs, 2, 2, "unhold") < 0 || (ts = as_state(args[0])) == NULL) {
        return NULL;
    }
    RW_RETURN_NONE_IF_OK(rw_unhold(ts, args[1]));
}

static PyMethodDef sync_functions[] = {
    {"note", RW_CFUNC(mod_note), METH_FASTCALL, "note(ts, kind, label, direction, where=None)"},
    {"release_store", RW_CFUNC(mod_release_store), METH_FASTCALL,
     "release_store(sv, ts, kind='release')"},
    {"release_join", RW_CFUNC(mod_release_join), METH_FASTCALL,
     "release_join(sv, ts, kind='release')"},
    {"acquire", RW_CFUNC(mod_acquire), METH_FASTCALL, "acquire(sv, ts, kind='acquire')"},
    {"acquire_lock", RW_CFUNC(mod_acquire_lock), METH_FASTCALL,
     "acquire_lock(sv, ts, kind='acquire')"},
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
            {&str_events, "events"}, {&kind_acquire, "acquire"},
            {&kind_release, "release"}, {&dir_acquire, "acquire"}, {&dir_release, "release"},
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            *names[i].slot = PyUnicode_InternFromString(names[i].text);
            if (*names[i].slot == NULL) {
                return -1;
            }
        }
        if (PyType_Ready(&RW_SyncVarType) < 0) {
            return -1;
        }
        strings = 1;
    }
    if (PyModule_AddObjectRef(module, "SyncVar", (PyObject *)&RW_SyncVarType) < 0
            || rw_events_ready(module) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, sync_functions);
}
