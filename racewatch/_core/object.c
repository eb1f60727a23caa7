/* Checking an access to an attribute (object.h says which are watched and how): the
 * tp_getattro and the __setattr__ and __delattr__ that the hooks install, object_access()
 * for an attribute of a class read by its name, and the reads that found one unset.
 * Where the location is, is decided as objects.py explains (a data descriptor's own code,
 * the instance, a plain value of the class, nothing for a method).
 */

#include "object.h"

static PyObject *str_dict, *str_getattr, *str_setattr, *str_delattr, *str_vars, *str_func;

enum { CHECK_READ, CHECK_WRITE, CHECK_ALL };

/* Count the access that seen_again() found made already: 1, or -1 when the budget says
 * so. */
static inline int
count_seen(RW_ThreadState *ts)
{
    ts->accesses++;
    if (!(ts->accesses & RW_BUDGET_MASK) && rw_settings->budget != NULL
            && rw_settings->budget != Py_None && rw_budget_check(ts) < 0) {
        return -1;
    }
    return 1;
}

/* An access to attribute ``name`` of ``target`` that this thread made already in its
 * current epoch (rw_made_already): counted as the access it is, not checked again (see
 * check()), whoever's code repeats it (asked before from_instrumented_code()).  1 when it
 * was, 0 when not, -1 on error. */
static inline int
seen_again(RW_ThreadState *ts, PyObject *target, PyObject *name, int write)
{
    if (ts == NULL || ts->busy || ts->ignoring || ts->pending) {
        return 0;   /* (pending: the access starts a new epoch, through check()) */
    }
    return rw_made_already(ts, target, name, write, 0, NULL) ? count_seen(ts) : 0;
}

/* The reads that found an attribute or a global unset: {(shadow serial, name)}, at most
 * UNSET_LIMIT of them (racewatch/runtime/unset.py, which shares this set, says why). */
#define UNSET_LIMIT (1 << 16)
static PyObject *unset_seen = NULL;

int
rw_saw_unset(RW_Shadow *sh, PyObject *name)
{
    if (PySet_GET_SIZE(unset_seen) >= UNSET_LIMIT && PySet_Clear(unset_seen) < 0) {
        return -1;
    }
    PyObject *entry = Py_BuildValue("(LO)", sh->serial, name);
    if (entry == NULL) {
        return -1;
    }
    int rc = PySet_Add(unset_seen, entry);
    Py_DECREF(entry);
    return rc;
}

/* -- the attributes an object saw accessed in one epoch (objects.py, epoch_names) --------- */

/* The place of ``name`` in ``e``, or -1: the same string (names are mostly interned), else
 * an equal one. */
static int
epoch_name_index(const rw_epoch_names *e, PyObject *name)
{
    int same = rw_epoch_name_same(e, name, NULL);
    if (same >= 0) {
        return same;
    }
    Py_hash_t hash = PyObject_Hash(name);   /* a str's: cached, never fails */
    for (int i = 0; i < e->n; i++) {
        PyObject *other = e->names[i];
        if (PyUnicode_GET_LENGTH(other) == PyUnicode_GET_LENGTH(name)
                && PyObject_Hash(other) == hash && PyUnicode_Compare(other, name) == 0) {
            return i;
        }
    }
    return -1;
}

/* What this thread did to ``name`` of the shadow's object already in its current epoch:
 * NAME_UNSEEN, NAME_READ (read, not written) or NAME_WRITTEN. */
enum { NAME_UNSEEN, NAME_READ, NAME_WRITTEN };

static int
epoch_names_have(RW_ObjRef *ref, RW_ThreadState *ts, PyObject *name)
{
    int found = NAME_UNSEEN;
    Py_BEGIN_CRITICAL_SECTION(ref->shadow);
    const rw_epoch_names *e = &ref->epoch;
    if (rw_epoch_is_current(e, ts)) {
        int i = epoch_name_index(e, name);
        found = i < 0 ? NAME_UNSEEN : (e->written >> i) & 1 ? NAME_WRITTEN : NAME_READ;
    }
    Py_END_CRITICAL_SECTION();
    return found;
}

/* Remember this thread's access to ``name`` in its current epoch (the shadow fresh: check()
 * made it so): the object's memory of another epoch is dropped; past RW_EPOCH_NAMES names,
 * a new one is not remembered. */
static void
epoch_names_add(RW_ObjRef *ref, RW_ThreadState *ts, PyObject *name, int write)
{
    Py_BEGIN_CRITICAL_SECTION(ref->shadow);
    rw_epoch_names *e = &ref->epoch;
    if (!rw_epoch_is_current(e, ts)) {
        rw_epoch_names_reset(e);
        e->slot = ts->slot;
        e->clock = ts->clock;
        e->era = RW_LOAD(&rw_epoch_memories_era);
        e->generation = rw_settings->generation;
    }
    int i = e->n ? epoch_name_index(e, name) : -1;
    if (i < 0 && e->n < RW_EPOCH_NAMES) {
        i = e->n++;
        e->names[i] = Py_NewRef(name);
    }
    if (i >= 0 && write) {
        e->written |= (unsigned char)(1u << i);
    }
    Py_END_CRITICAL_SECTION();
}

/* One access to attribute ``name`` of ``target`` (NULL: every attribute); -1 with an
 * exception set on error.  An attribute this thread read (or wrote) already in its current
 * epoch is not checked again for a read (or anything): objects.py's ``attr_seen`` says
 * why that is sound, and the pure-Python core keeps the same table the same way.
 * ``probed``: the calling thread's state when the caller looked (target, name) up in that
 * table already and missed, else NULL. */
static int
check(RW_ThreadState *probed, PyObject *target, PyObject *name, PyObject *op, int what,
      int found_unset)
{
    RW_ThreadState *ts;
    int e = probed != NULL ? rw_enter_thread_as(probed, &ts) : rw_enter_thread(&ts);
    if (e <= 0) {
        return e;
    }
    rw_attr_seen *seen = NULL;
    if (what != CHECK_ALL) {
        seen = rw_seen_entry(ts, target, name);
        if (probed == NULL && rw_seen_holds(seen, ts, target, name, what == CHECK_WRITE)) {
            return 0;
        }
    }
    Py_INCREF(ts);
    RW_ObjRef *ref = rw_object_ref(target);
    if (ref == NULL) {
        Py_DECREF(ts);
        return PyErr_Occurred() ? -1 : 0;
    }
    RW_Shadow *sh = (RW_Shadow *)ref->shadow;
    e = rw_shadow_fresh(sh);
    /* The object remembers it too, for the objects the thread's table is too small for:
     * skipped for the same reason (objects.py, ``epoch_names``). */
    int by_name = what != CHECK_ALL && PyUnicode_CheckExact(name);
    int named = e == 0 && by_name ? epoch_names_have(ref, ts, name) : NAME_UNSEEN;
    int again = named == NAME_WRITTEN || (named == NAME_READ && what == CHECK_READ);
    if (e == 0 && !again) {
        e = what == CHECK_ALL ? rw_on_read_all(ts, sh, op)
            : what == CHECK_WRITE ? rw_on_write(ts, sh, target, name, op, 0)
            : rw_on_read(ts, sh, target, name, op);
    }
    if (e == 0 && !again && found_unset && what == CHECK_READ) {
        e = rw_saw_unset(sh, name);
    }
    if (e == 0 && !again && by_name) {
        epoch_names_add(ref, ts, name, what == CHECK_WRITE);
    }
    if (e == 0 && seen != NULL) {
        int same = seen->ref == (PyObject *)ref && seen->name == name
                   && seen->clock == ts->clock
                   && seen->forgotten == RW_LOAD(&rw_objects_forgotten);
        /* A write the object remembers is one too: this thread's next write skips. */
        seen->write = (char)(what == CHECK_WRITE || named == NAME_WRITTEN
                             || (same && seen->write));
        seen->target = target;
        seen->clock = ts->clock;
        seen->forgotten = RW_LOAD(&rw_objects_forgotten);
        Py_XSETREF(seen->name, Py_NewRef(name));
        Py_XSETREF(seen->ref, Py_NewRef(ref));
    }
    Py_DECREF(ref);
    Py_DECREF(ts);
    return e;
}

static inline int
is_data_descriptor(PyObject *descr)
{
    return Py_TYPE(descr)->tp_descr_set != NULL;
}

/* What the type finds for ``name`` (a new reference, or NULL). */
static inline PyObject *
class_lookup(PyTypeObject *type, PyObject *name)
{
#if RW_PY313
    return _PyType_LookupRef(type, name);
#else
    return Py_XNewRef(_PyType_Lookup(type, name));
#endif
}

/* The class in ``type``'s MRO whose namespace holds ``name`` (borrowed), or ``type``. */
static PyObject *
owner_of(PyTypeObject *type, PyObject *name)
{
    PyObject *mro = type->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTypeObject *k = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyObject *ns = k->tp_dict;
        if (ns != NULL && PyDict_Contains(ns, name) > 0) {
            return (PyObject *)k;
        }
    }
    PyErr_Clear();
    return (PyObject *)type;
}

/* Whether ``value``, which ``obj.name`` gave where the class has ``descr``, a non-data
 * descriptor (a method), is what the class gives, not a value of the object's own that
 * hides it: told for a function (the bound method), a staticmethod (its function) and a
 * classmethod (its function bound to the class); any other descriptor is taken to have
 * given it (objects.py, _from_class). */
static int
from_class(PyObject *descr, PyObject *obj, PyObject *value)
{
    if (Py_IS_TYPE(descr, &PyFunction_Type)) {
        return PyMethod_Check(value) && PyMethod_GET_FUNCTION(value) == descr
               && PyMethod_GET_SELF(value) == obj;
    }
    int stat = Py_IS_TYPE(descr, &PyStaticMethod_Type);
    if (!stat && !Py_IS_TYPE(descr, &PyClassMethod_Type)) {
        return 1;
    }
    PyObject *func = PyObject_GetAttr(descr, str_func);
    if (func == NULL) {
        PyErr_Clear();
        return 1;
    }
    int given = stat ? value == func
                     : PyMethod_Check(value) && PyMethod_GET_FUNCTION(value) == func
                       && PyMethod_GET_SELF(value) == (PyObject *)Py_TYPE(obj);
    Py_DECREF(func);
    return given;
}

/* The read ``obj.name`` gave ``value`` (NULL: it raised AttributeError); ``probed`` as
 * check()'s, for (obj, name). */
static int
after_get(RW_ThreadState *probed, PyObject *obj, PyObject *name, PyObject *value)
{
    PyTypeObject *type = Py_TYPE(obj);
    PyObject *descr = class_lookup(type, name);
    PyObject *target = obj;
    int what = CHECK_READ;
    if (descr != NULL) {
        if (is_data_descriptor(descr)) {
            if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
                target = obj;
            }
            else if (Py_IS_TYPE(descr, &PyGetSetDescr_Type)
                     && PyUnicode_Compare(name, str_dict) == 0) {
                what = CHECK_ALL;
            }
            else {
                target = NULL;   /* a property's own code is what it touches */
            }
        }
        else if (Py_TYPE(descr)->tp_descr_get != NULL) {
            if (value == NULL || from_class(descr, obj, value)) {
                target = NULL;   /* a method: the class's code, not data */
            }                    /* else a value of the object's own hides it */
        }
        else if (value == descr) {
            target = owner_of(type, name);   /* the class whose attribute it is */
        }
        Py_DECREF(descr);
    }
    if (target == NULL) {
        return 0;
    }
    return check(target == obj ? probed : NULL, target, what == CHECK_ALL ? NULL : name,
                 what == CHECK_ALL ? str_vars : str_getattr, what,
                 value == NULL || value == Py_None);
}

/* Only an access made by instrumented code is checked: the state a program shares through
 * its own code (a library's code that reads its own attributes of an instance of a
 * subclass, threading.Thread's, has its own synchronization).  Asked after seen_again(),
 * for the accesses to check: finding the caller's globals was a fifth of what racewatch
 * added to a read the thread made already, on 3.13 (objects.py, ``_instrumented_frame``). */
static inline int
from_instrumented_code(RW_ThreadState *ts)
{
    return rw_instrumented_by(ts, PyEval_GetGlobals());
}

static int read_pending_lock(RW_ThreadState *ts, PyObject *obj, PyObject *name,
                             PyObject *value);

/* read_checked() for all but a read this thread made already: one that raised, the read
 * of a lock the thread's pending epoch was released by, and the reads to check. */
static RW_NOINLINE PyObject *
read_checked_slow(RW_ThreadState *ts, PyObject *obj, PyObject *name, PyObject *value)
{
    if (value == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyObject *exc = rw_err_fetch();
        if (after_get(NULL, obj, name, NULL) < 0) {
            Py_XDECREF(exc);
            return NULL;
        }
        rw_err_restore(exc);
        return NULL;
    }
    if (ts != NULL && ts->pending && !ts->busy && !ts->ignoring
            && rw_is_lock_of(value, ts->pending_sv)) {
        if (read_pending_lock(ts, obj, name, value) < 0) {
            Py_DECREF(value);
            return NULL;
        }
        return value;
    }
    if (after_get(ts, obj, name, value) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

/* The read ``obj.name`` that gave ``value`` (NULL: an exception), checked: what the hooks
 * return.  Kept small: most reads are ones the thread made already in its epoch. */
static inline PyObject *
read_checked(PyObject *obj, PyObject *name, PyObject *value)
{
    if (!rw_watched_name(name)) {
        return value;
    }
    RW_ThreadState *ts = rw_tls_state;   /* (read once for the whole access) */
    if (value != NULL) {
        int seen = seen_again(ts, obj, name, 0);
        if (seen > 0) {
            return value;
        }
        if (seen < 0) {
            Py_DECREF(value);
            return NULL;
        }
    }
    return from_instrumented_code(ts) ? read_checked_slow(ts, obj, name, value) : value;
}

PyObject *
rw_obj_getattro(PyObject *obj, PyObject *name)
{
    const rw_hook *h = rw_hook_of(Py_TYPE(obj));
    return read_checked(obj, name, h != NULL ? h->getattro(obj, name)
                                             : PyObject_GenericGetAttr(obj, name));
}

PyObject *
rw_obj_read_checked(PyObject *obj, PyObject *name, PyObject *value)
{
    return read_checked(obj, name, value);
}

/* rw_obj_getattro_generic's whole way: no look in the table of hooks for it. */
PyObject *
rw_obj_getattro_full(PyObject *obj, PyObject *name)
{
    int method;
    PyObject *value = rw_instance_value(obj, name, &method);
    if (method) {
        return value;   /* a method: the class's code, not data (after_get) */
    }
    return read_checked(obj, name, value != NULL ? value : PyObject_GenericGetAttr(obj, name));
}

/* -- the read of the lock a thread released last (objects.py, read_pending_lock) --------- *
 * ``with self.lock:`` reads ``self.lock`` before it takes the lock: in a loop, after the
 * release that left the thread's epoch pending (sync.c, rw_settle_pending).  Checked as
 * an ordinary read, it would end that epoch, and every access of the round after it would
 * start anew, although the thread then takes the same lock back and nobody joined the
 * epoch.  So the read is checked in the pending epoch, and remembered, with its stack,
 * the locks held and its time: if the thread takes the lock back with nobody having taken
 * it meanwhile, the epoch goes on and the read was made in it (rw_drop_deferred); if the
 * epoch ends instead (at the thread's next access, publication or join), the read is
 * recorded again in the next one, as it was (rw_replay_deferred), before anything else:
 * a write that another thread made after taking the lock, and so after joining the
 * pending epoch, is then unordered with it, as it is with the read. */

static int
read_pending_lock(RW_ThreadState *ts, PyObject *obj, PyObject *name, PyObject *value)
{
    if (ts->deferred.target != NULL && rw_settle_pending(ts) < 0) {
        return -1;   /* (a second one: the first is recorded in the next epoch) */
    }
    if (!ts->pending) {
        int seen = seen_again(ts, obj, name, 0);
        return seen < 0 ? -1 : seen ? 0 : after_get(ts, obj, name, value);
    }
    const void *sv = ts->pending_sv;
    long long clock = ts->clock;
    ts->pending = 0;
    int seen = seen_again(ts, obj, name, 0);
    int rc = seen < 0 ? -1 : seen ? 0 : after_get(ts, obj, name, value);
    if (ts->pending || ts->pending_sv != sv || ts->clock != clock) {
        return rc;   /* (the check itself published: nothing is pending any more) */
    }
    ts->pending = 1;   /* (on an error too: the epoch still ends at the next access) */
    if (rc < 0) {
        return -1;
    }
    PyObject *stack = rw_capture(rw_settings->stack_depth, NULL, ts);
    if (stack == NULL) {
        return -1;
    }
    ts->deferred.target = Py_NewRef(obj);
    ts->deferred.name = Py_NewRef(name);
    ts->deferred.value = Py_NewRef(value);
    ts->deferred.stack = stack;
    ts->deferred.held = Py_NewRef(ts->held);
    ts->deferred.time = rw_monotonic_ns();
    return 0;
}

void
rw_drop_deferred(RW_ThreadState *ts)
{
    Py_CLEAR(ts->deferred.target);
    Py_CLEAR(ts->deferred.name);
    Py_CLEAR(ts->deferred.value);
    Py_CLEAR(ts->deferred.stack);
    Py_CLEAR(ts->deferred.held);
}

/* The deferred read, in the epoch that has just begun (rw_settle_pending). */
int
rw_replay_deferred(RW_ThreadState *ts)
{
    rw_deferred_read d = ts->deferred;
    memset(&ts->deferred, 0, sizeof(ts->deferred));
    int rc = 0;
    if (!ts->busy && !ts->ignoring) {
        Py_INCREF(ts);
        ts->replay = &d;
        rc = after_get(NULL, d.target, d.name, d.value);
        ts->replay = NULL;
        Py_DECREF(ts);
    }
    Py_DECREF(d.target);
    Py_DECREF(d.name);
    Py_DECREF(d.value);
    Py_DECREF(d.stack);
    Py_DECREF(d.held);
    return rc;
}

static int
after_set(RW_ThreadState *probed, PyObject *obj, PyObject *name, PyObject *op)
{
    PyObject *descr = class_lookup(Py_TYPE(obj), name);
    int property = descr != NULL && is_data_descriptor(descr)
                   && !Py_IS_TYPE(descr, &PyMemberDescr_Type);
    Py_XDECREF(descr);
    if (property) {
        return 0;   /* a property's setter: its own code's accesses are checked */
    }
    return check(probed, obj, name, op, CHECK_WRITE, 0);
}

/* What ``super(cls, self).<attr>(*args)`` calls: the next ``attr`` in ``self``'s MRO after
 * ``cls``, unless ``own`` (the one ``cls``'s namespace had) says otherwise. */
static PyObject *
call_next(PyObject *self, PyTypeObject *cls, PyObject *attr, PyObject *own,
          PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *stack[3];
    stack[0] = self;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        stack[i + 1] = args[i];
    }
    if (own != NULL) {
        return PyObject_Vectorcall(own, stack, (size_t)nargs + 1, NULL);
    }
    PyObject *mro = Py_TYPE(self)->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0, i = 0;
    while (i < n && PyTuple_GET_ITEM(mro, i) != (PyObject *)cls) {
        i++;
    }
    for (i++; i < n; i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyObject *found = base->tp_dict != NULL
                          ? PyDict_GetItemWithError(base->tp_dict, attr) : NULL;
        if (found != NULL) {
            if (base == &PyBaseObject_Type) {
                /* object's own, without the call through its slot wrapper */
                int rc = PyObject_GenericSetAttr(self, args[0], nargs == 2 ? args[1] : NULL);
                return rc < 0 ? NULL : Py_NewRef(Py_None);
            }
            Py_INCREF(found);
            PyObject *r = PyObject_Vectorcall(found, stack, (size_t)nargs + 1, NULL);
            Py_DECREF(found);
            return r;
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    int rc = PyObject_GenericSetAttr(self, args[0], nargs == 2 ? args[1] : NULL);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

/* ``self.name = value`` (``value`` NULL: ``del self.name``) for ``cls``, a hooked class of
 * ``self``'s (``h``: its entry, or NULL), then checked: 0 or -1. */
static int
set_checked(PyObject *self, PyTypeObject *cls, const rw_hook *h, PyObject *name,
            PyObject *value)
{
    int rc;
    if (h != NULL && h->generic_next && Py_TYPE(self) == cls) {
        /* the usual class: object's own, without the walk and the call through its wrapper
         * (and for a value replaced, without its lookups: object_values.c) */
        rc = value != NULL && rw_instance_replace(self, name, value)
             ? 0 : PyObject_GenericSetAttr(self, name, value);
    }
    else {
        PyObject *own = h == NULL ? NULL : value != NULL ? h->own_setattr : h->own_delattr;
        PyObject *args[2] = {name, value};
        PyObject *r = call_next(self, cls, value != NULL ? rw_str_setattr_name
                                                         : rw_str_delattr_name,
                                own, args, value != NULL ? 2 : 1);
        rc = r != NULL ? 0 : -1;
        Py_XDECREF(r);
    }
    if (rc == 0 && rw_watched_name(name)) {
        RW_ThreadState *ts = rw_tls_state;
        PyObject *op = value != NULL ? str_setattr : str_delattr;
        int seen = seen_again(ts, self, name, 1);
        if (seen < 0 || (seen == 0 && from_instrumented_code(ts)
                         && after_set(ts, self, name, op) < 0)) {
            rc = -1;
        }
    }
    return rc;
}

/* The __setattr__ (``nargs`` 2) and __delattr__ (1) put in a hooked class's namespace. */
static PyObject *
set_or_delete(PyObject *self, PyTypeObject *cls, PyObject *const *args, size_t nargsf,
              PyObject *kwnames, Py_ssize_t want)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    const char *what = want == 2 ? "__setattr__" : "__delattr__";
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames)) {
        PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments", what);
        return NULL;
    }
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "expected %zd argument%s, got %zd", want,
                     want == 1 ? "" : "s", nargs);
        return NULL;
    }
    if (set_checked(self, cls, rw_hook_find(cls), args[0], want == 2 ? args[1] : NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* The tp_setattro of a hooked class whose writes are object's (object.h says when): what
 * its __setattr__ and __delattr__ do, without slot_tp_setattro's look for them and call.
 * Anything else whose slot this is (a C subclass that inherited it; a class unhooked)
 * gets what slot_tp_setattro does.  rw_obj_setattro's whole way: its fast way is in
 * object_values.c. */
int
rw_obj_setattro_full(PyObject *obj, PyObject *name, PyObject *value)
{
    PyTypeObject *type = Py_TYPE(obj);
    const rw_hook *h = rw_hook_find(type);
    if (rw_hook_writes_as_object(h)) {
        return set_checked(obj, type, h, name, value);
    }
    PyObject *meth = class_lookup(type, value != NULL ? rw_str_setattr_name
                                                      : rw_str_delattr_name);
    if (meth == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%U'",
                         type->tp_name, value != NULL ? rw_str_setattr_name
                                                      : rw_str_delattr_name);
        }
        return -1;
    }
    PyObject *stack[3] = {obj, name, value};
    PyObject *r = PyObject_Vectorcall(meth, stack, value != NULL ? 3 : 2, NULL);
    Py_DECREF(meth);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static PyObject *
obj_setattr_method(PyObject *self, PyTypeObject *cls, PyObject *const *args, size_t nargsf,
                   PyObject *kwnames)
{
    return set_or_delete(self, cls, args, nargsf, kwnames, 2);
}

static PyObject *
obj_delattr_method(PyObject *self, PyTypeObject *cls, PyObject *const *args, size_t nargsf,
                   PyObject *kwnames)
{
    return set_or_delete(self, cls, args, nargsf, kwnames, 1);
}

PyMethodDef rw_setattr_def = {
    "__setattr__", RW_CFUNC(obj_setattr_method), METH_METHOD | METH_FASTCALL | METH_KEYWORDS,
    "Implement setattr(self, name, value)."};
PyMethodDef rw_delattr_def = {
    "__delattr__", RW_CFUNC(obj_delattr_method), METH_METHOD | METH_FASTCALL | METH_KEYWORDS,
    "Implement delattr(self, name)."};

/* object_access(target, name, op, write[, found_unset]): one access to an attribute of
 * ``target`` (a class's, from its name in the rewritten code: see objects.class_read). */
static PyObject *
object_access(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 4 || nargs > 5 || !PyUnicode_Check(args[1]) || !PyUnicode_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "object_access(target, name, op, write[, found_unset])");
        return NULL;
    }
    int write = PyObject_IsTrue(args[3]);
    int found_unset = nargs == 5 ? PyObject_IsTrue(args[4]) : 0;
    if (write < 0 || found_unset < 0) {
        return NULL;
    }
    PyObject *op = Py_NewRef(args[2]);
    PyUnicode_InternInPlace(&op);
    int rc = check(NULL, args[0], args[1], op, write ? CHECK_WRITE : CHECK_READ, found_unset);
    Py_DECREF(op);
    if (rc < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
object_shadow_of(PyObject *Py_UNUSED(module), PyObject *target)
{
    PyObject *sh = rw_object_shadow(target);
    if (sh == NULL && !PyErr_Occurred()) {
        Py_RETURN_NONE;
    }
    return sh;
}

/* A forked child: the hooks' lock as new, every object forgotten. */
void
rw_objects_after_fork(void)
{
    rw_object_hooks_after_fork();
    rw_forget_objects(1);
}

static PyMethodDef object_functions[] = {
    {"object_access", RW_CFUNC(object_access), METH_FASTCALL,
     "object_access(target, name, op, write[, found_unset]): one access to an attribute "
     "of target."},
    {"object_shadow_of", object_shadow_of, METH_O,
     "The shadow of an object's (or a class's) attributes, made on first use, or None."},
    {NULL}
};

/* The three files' part of the module: unset_seen, then the functions hook_class,
 * unhook_classes, object_access and object_shadow_of. */
int
rw_object_ready(PyObject *module)
{
    if (str_dict == NULL) {
        if ((str_dict = PyUnicode_InternFromString("__dict__")) == NULL
                || (str_getattr = PyUnicode_InternFromString("getattr")) == NULL
                || (str_setattr = PyUnicode_InternFromString("setattr")) == NULL
                || (str_delattr = PyUnicode_InternFromString("delattr")) == NULL
                || (str_vars = PyUnicode_InternFromString("vars")) == NULL
                || (str_func = PyUnicode_InternFromString("__func__")) == NULL
                || (unset_seen = PySet_New(NULL)) == NULL) {
            return -1;
        }
    }
    if (rw_object_shadow_ready() < 0
            || PyModule_AddObjectRef(module, "unset_seen", unset_seen) < 0
            || rw_object_hooks_ready(module) < 0) {
        return -1;
    }
    return PyModule_AddFunctions(module, object_functions);
}
