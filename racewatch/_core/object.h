/* Attributes (objects.py, the reference): each (object, name) of an instance of a class
 * that instrumented code defines is a location, and so is each (class, name) read through
 * such an instance.  Declarations shared by the files that watch them, one part each:
 *
 *   object_hooks.c   the table of hooked classes: what each type had, hook_class(),
 *                    unhook_classes()
 *   object_shadow.c  the table from an object to the shadow of its attributes (ObjRef)
 *   object.c         checking an access: the tp_getattro and the __setattr__ and
 *                    __delattr__ that the hooks install, object_access()
 *   object_values.c  an instance attribute's value read off the object's inline values
 *                    (3.11+, GIL builds), as the specializing interpreter reads it, and
 *                    the fast ways of such a read (rw_obj_getattro_generic) and of a
 *                    write that replaces one (rw_obj_setattro)
 *
 * hook_class(cls) replaces the type's tp_getattro by rw_obj_getattro, which calls what the
 * type had, then checks the access (rw_obj_getattro_generic where that was object's own:
 * it calls it without a look in the table); a subclass made later inherits it.  What each
 * type had is kept in a table keyed by the type (the hooks), found again on every access: a
 * subclass that inherited the hook finds its first hooked base's.  Writes go through
 * ``__setattr__`` and ``__delattr__`` put in the class's namespace (wrapping the class's
 * own, if it had them).  A hooked class whose writes are object's (no __setattr__ or
 * __delattr__ of its own or of a base's, so never a metaclass) also gets rw_obj_setattro
 * as its own tp_setattro, which spares each write slot_tp_setattro's look for __setattr__
 * and call of it.  Up to 3.12 ``object.__setattr__(obj, ...)``, which frozen dataclasses
 * and attrs call, refuses an object whose class has a C-level setattro of its own
 * (typeobject.c's hackcheck; from 3.13 that check is made for types only): object_wrap.c
 * lets those classes through while any has it.  Its namespace keeps the methods: a
 * subclass made later gets slot_tp_setattro, which finds them, and
 * ``super().__setattr__`` calls them; any change to either name (unhook_classes' too)
 * makes the interpreter choose the slot again.
 *
 * An object's shadow is found by its address in a table of ObjRef entries: an ObjRef is
 * a weak reference to the object (a subtype of weakref.ref) holding the shadow, whose
 * callback takes the entry out when the object dies, before its address can be reused.
 */

#ifndef RACEWATCH_OBJECT_H
#define RACEWATCH_OBJECT_H

#include "engine.h"

/* Where object_values.c reads and replaces an instance's values as the interpreter keeps
 * them (it defines this itself, before Python.h, to read the interpreter's layouts). */
#if !defined(RW_INSTANCE_VALUES) && PY_VERSION_HEX >= 0x030B0000 \
        && PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED)
#define RW_INSTANCE_VALUES 1
#endif

/* The hash of an address, for the tables of both the hooks and the objects. */
static inline size_t
rw_ptr_hash(const void *p)
{
    uintptr_t x = (uintptr_t)p >> 4;
    return (size_t)(x * 0x9E3779B97F4A7C15ull);
}

/* -- object_hooks.c ---------------------------------------------------------------------- */

/* What a hooked type had. */
typedef struct {
    PyTypeObject *type;      /* NULL: an empty place; HOOK_DEAD: the type died */
    PyObject *alive;         /* a weak reference to the type, whose callback marks it dead */
    getattrofunc getattro;
    PyObject *own_setattr;   /* the __setattr__ its namespace held (a strong reference), */
    PyObject *own_delattr;   /* or NULL; likewise __delattr__ */
    char installed;          /* this type itself was hooked (not only a subclass of one) */
    char generic_next;       /* neither its own, and object's come next in its MRO */
} rw_hook;

extern PyObject *rw_str_setattr_name, *rw_str_delattr_name;   /* "__setattr__", ... */

/* Whether rw_obj_setattro writes the instances of the type ``h`` is the entry of (or NULL)
 * itself, as object's writes do (set_checked), rather than through __setattr__. */
static inline int
rw_hook_writes_as_object(const rw_hook *h)
{
    return h != NULL && h->installed && h->generic_next;
}

const rw_hook *rw_hook_find(PyTypeObject *type);
const rw_hook *rw_hook_of(PyTypeObject *type);
void rw_object_hooks_after_fork(void);
int rw_object_hooks_ready(PyObject *module);

/* -- object_shadow.c --------------------------------------------------------------------- */

typedef struct {
    PyWeakReference ref;
    void *addr;              /* the object's address: its key in the table */
    PyObject *shadow;        /* RW_Shadow */
    char published;          /* it is the table's entry for the object (changed under the
                              * table's lock) */
    rw_epoch_names epoch;    /* the object's memory of an epoch (changed under the shadow's
                              * lock; object.c) */
} RW_ObjRef;

extern PyTypeObject RW_ObjRefType;

#ifndef Py_GIL_DISABLED
/* The table's entry for ``target`` read off its list of weak references (borrowed), or NULL
 * when it has none there.  Not for a type that is not a heap type: from 3.12 a builtin
 * type keeps its list elsewhere (``instance``: the caller knows ``target`` is no type).
 * GIL builds only: nothing changes the list meanwhile. */
static inline RW_ObjRef *
rw_object_ref_listed(PyObject *target, int instance)
{
    Py_ssize_t offset = Py_TYPE(target)->tp_weaklistoffset;   /* negative: managed (3.12+) */
    if (offset == 0 || (!instance && PyType_Check(target)
                        && !PyType_HasFeature((PyTypeObject *)target, Py_TPFLAGS_HEAPTYPE))) {
        return NULL;
    }
    PyWeakReference *r = *(PyWeakReference **)((char *)target + offset);
    for (; r != NULL; r = r->wr_next) {
        if (Py_IS_TYPE(r, &RW_ObjRefType) && ((RW_ObjRef *)r)->published) {
            return (RW_ObjRef *)r;
        }
    }
    return NULL;
}
#endif

RW_ObjRef *rw_object_ref(PyObject *target);
/* Empty an object's memory of an epoch. */
void rw_epoch_names_reset(rw_epoch_names *e);
PyObject *rw_object_shadow(PyObject *target);
void rw_forget_objects(int after_fork);
int rw_object_shadow_ready(void);

/* -- an access the thread made already in its epoch (object.c, object_values.c) ---------- */

/* Its place in the thread's table of the attributes it accessed in its epoch. */
static inline rw_attr_seen *
rw_seen_entry(RW_ThreadState *ts, PyObject *target, PyObject *name)
{
    uintptr_t i = ((uintptr_t)target >> 4) ^ ((uintptr_t)name >> 3);
    return &ts->attr_seen[i & (RW_ATTR_SEEN - 1)];
}

/* Whether ``entry`` of that table holds the access (a read: a read or a write; a write: a
 * write) in ``ts``'s current epoch, to ``target`` still alive. */
static inline int
rw_seen_holds(const rw_attr_seen *entry, const RW_ThreadState *ts, PyObject *target,
              PyObject *name, int write)
{
    return entry->target == target && entry->name == name && entry->clock == ts->clock
           && (!write || entry->write) && entry->ref != NULL
           && entry->forgotten == RW_LOAD(&rw_objects_forgotten)
           && ((PyWeakReference *)entry->ref)->wr_object == target;
}

/* The place of the same string as ``name`` in ``e``, or -1.  ``hint`` (NULL: none) is
 * where the name was found last in an object's memory, tried first and kept up to date:
 * the objects of a class mostly have their names in the same order there (the order of
 * the first accesses in the epoch), and the scan was a fifth of a read's fast way
 * (object_values.c keeps a hint for each pair it remembers).  Any value is safe: the
 * place is compared before it is taken. */
static inline int
rw_epoch_name_same(const rw_epoch_names *e, PyObject *name, unsigned char *hint)
{
    if (hint != NULL && *hint < e->n && e->names[*hint] == name) {
        return *hint;
    }
    for (int i = 0; i < e->n; i++) {
        if (e->names[i] == name) {
            if (hint != NULL) {
                *hint = (unsigned char)i;
            }
            return i;
        }
    }
    return -1;
}

/* Whether ``e`` is the memory of ``ts``'s current epoch, in this generation. */
static inline int
rw_epoch_is_current(const rw_epoch_names *e, const RW_ThreadState *ts)
{
    return e->slot == ts->slot && e->clock == ts->clock
           && e->era == RW_LOAD(&rw_epoch_memories_era)
           && e->generation == rw_settings->generation;
}

/* Whether ``ts`` (not busy, ignoring or pending) made the access to attribute ``name`` of
 * ``target`` already in its current epoch (a read: a read or a write; a write: a write),
 * whoever's code repeats it; nothing is counted or remembered.  Looked up first in the
 * object's own memory of the epoch, which check() consults too (``named``), found without
 * a lock on GIL builds (its list of weak references) and looked through for the same
 * string only (check() compares equal ones): it answers for the objects the thread's
 * table is too small for.  Then in that table (for an object with more names than its
 * memory holds, or whose memory another thread's epoch took).  ``instance``: the caller
 * knows ``target`` is no type. */
static inline int
rw_made_already(RW_ThreadState *ts, PyObject *target, PyObject *name, int write, int instance,
                unsigned char *hint)
{
#ifndef Py_GIL_DISABLED   /* (there the memory changes under the shadow's lock) */
    const RW_ObjRef *ref = rw_object_ref_listed(target, instance);
    if (ref != NULL) {
        const rw_epoch_names *e = &ref->epoch;
        if (rw_epoch_is_current(e, ts)) {
            int i = rw_epoch_name_same(e, name, hint);
            if (i >= 0 && (!write || ((e->written >> i) & 1))) {
                return 1;
            }
        }
    }
#else
    (void)instance;
    (void)hint;
#endif
    return rw_seen_holds(rw_seen_entry(ts, target, name), ts, target, name, write);
}

/* Whether attribute accesses are watched now. */
static inline int
rw_attrs_watched(void)
{
    return rw_enabled() && (rw_settings->watch & RW_WATCH_ATTR);
}

/* Whether attribute accesses are watched and ``name`` can be one (a str). */
static inline int
rw_watched_name(PyObject *name)
{
    return rw_attrs_watched() && PyUnicode_CheckExact(name);
}

/* The fast way of a read (``write`` 0) or a write (1) of ``obj.name`` whose value is a
 * plain value of the instance (object_values.c: so ``name`` is an exact str, and ``obj``
 * no type, its class having a managed dict): 1 when nothing more is to be done, the
 * access being unwatched or one the calling thread made already in its epoch (then
 * counted); 0 when it takes the whole way (rw_obj_read_checked, set_checked), as it does
 * when the count is the memory budget's turn.  It calls nothing, so that its caller
 * saves no registers for it. */
static inline int
rw_access_done(PyObject *obj, PyObject *name, int write, unsigned char *hint)
{
    if (!rw_attrs_watched()) {
        return 1;
    }
    RW_ThreadState *ts = rw_tls_state;
    if (ts == NULL || ts->busy || ts->ignoring || ts->pending
            || !((ts->accesses + 1) & RW_BUDGET_MASK)
            || !rw_made_already(ts, obj, name, write, 1, hint)) {
        return 0;
    }
    ts->accesses++;
    return 1;
}

/* -- object.c: what the hooks install ---------------------------------------------------- */

PyObject *rw_obj_getattro(PyObject *obj, PyObject *name);
/* rw_obj_getattro for the types whose own was object's (most classes): its fast way is in
 * object_values.c, its whole way rw_obj_getattro_full. */
PyObject *rw_obj_getattro_generic(PyObject *obj, PyObject *name);
PyObject *rw_obj_getattro_full(PyObject *obj, PyObject *name);
/* The read ``obj.name`` that gave ``value`` (a new reference; NULL: an exception),
 * checked: what the hooks return. */
PyObject *rw_obj_read_checked(PyObject *obj, PyObject *name, PyObject *value);
/* The tp_setattro of a hooked class whose writes are object's: its fast way is in
 * object_values.c, its whole way rw_obj_setattro_full. */
int rw_obj_setattro(PyObject *obj, PyObject *name, PyObject *value);
int rw_obj_setattro_full(PyObject *obj, PyObject *name, PyObject *value);

/* -- object_wrap.c ----------------------------------------------------------------------- */

/* Make object's __setattr__ and __delattr__ accept an instance of a class whose
 * tp_setattro is rw_obj_setattro (up to 3.12; ``slot``: a Python class's tp_setattro,
 * slot_tp_setattro): 1 when they do, 0 when they cannot (then no class is to get it). */
int rw_object_wrap_install(setattrofunc slot);
/* Give them back CPython's own, once no class has rw_obj_setattro. */
void rw_object_wrap_restore(void);

/* -- object_values.c --------------------------------------------------------------------- */

/* ``obj.name`` (a new reference) read off the object's inline values, when it is a plain
 * value of the instance there and nothing of that name is in its class; or, with *method
 * set, the bound method when the class has a plain function of that name that the object
 * does not hide (no access: NULL then means an error); else NULL, with no exception set:
 * then PyObject_GenericGetAttr knows. */
PyObject *rw_instance_value(PyObject *obj, PyObject *name, int *method);
/* ``obj.name = value`` where the object has a plain value of that name in its inline
 * values already: 1 when done, 0 when it is not (nothing done, no exception set): then
 * PyObject_GenericSetAttr does it. */
int rw_instance_replace(PyObject *obj, PyObject *name, PyObject *value);
/* Forget what the table of (type, name) pairs remembers: a class was hooked or unhooked. */
void rw_instance_values_forget(void);

/* Whether ``f`` is one of the hooks (a type's tp_getattro, set or inherited). */
static inline int
rw_is_hook(getattrofunc f)
{
    return f == rw_obj_getattro || f == rw_obj_getattro_generic;
}
extern PyMethodDef rw_setattr_def, rw_delattr_def;

#endif /* RACEWATCH_OBJECT_H */
