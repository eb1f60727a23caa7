/* The table from an object to the shadow of its attributes (object.h): ObjRef entries,
 * found by the object's address, each taken out by its weak reference's callback.
 *
 * CONSISTENCY.  GIL builds: the table runs no Python code while it changes (an ObjRef
 * and its shadow are made before the table is touched, since making them may collect
 * garbage and so run other entries' callbacks).  Free-threaded builds: the table is split
 * by address into stripes, each under its own mutex.
 *
 * GIL builds find an object's entry without the table: an ObjRef is in the object's own
 * list of weak references, next to its first one or two, and says whether it is the
 * table's entry (``published``).  Free-threaded builds change that list under a lock of
 * their own: they look in the table.
 */

#include "object.h"

#define STRIPES 64

typedef struct {
    void *addr;              /* NULL: never used; TOMBSTONE: used, now free */
    RW_ObjRef *ref;          /* a strong reference */
} rw_objslot;

typedef struct {
    rw_objslot *slots;
    Py_ssize_t cap, used, filled;   /* filled: used + tombstones */
#ifdef Py_GIL_DISABLED
    PyMutex mutex;
#endif
} rw_stripe;

#define TOMBSTONE ((void *)1)

static rw_stripe stripes[STRIPES];
long long rw_objects_forgotten = 0;
long long rw_epoch_memories_era = 0;
static PyObject *died_callback = NULL;

static inline rw_stripe *
stripe_of(const void *addr)
{
    return &stripes[(rw_ptr_hash(addr) >> 32) % STRIPES];
}

static inline void
stripe_lock(rw_stripe *s)
{
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&s->mutex);
#else
    (void)s;
#endif
}

static inline void
stripe_unlock(rw_stripe *s)
{
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&s->mutex);
#else
    (void)s;
#endif
}

static rw_objslot *
slot_find(rw_stripe *s, const void *addr, int for_insert)
{
    if (s->cap == 0) {
        return NULL;
    }
    size_t mask = (size_t)s->cap - 1;
    rw_objslot *free_slot = NULL;
    for (size_t i = rw_ptr_hash(addr) & mask;; i = (i + 1) & mask) {
        rw_objslot *slot = &s->slots[i];
        if (slot->addr == addr) {
            return slot;
        }
        if (slot->addr == TOMBSTONE && free_slot == NULL) {
            free_slot = slot;
        }
        if (slot->addr == NULL) {
            return for_insert ? (free_slot != NULL ? free_slot : slot) : NULL;
        }
    }
}

/* Grow (or clean) the stripe's table so that one more entry fits; no Python code runs. */
static int
stripe_reserve(rw_stripe *s)
{
    if ((s->filled + 1) * 2 <= s->cap) {
        return 0;
    }
    Py_ssize_t cap = s->cap == 0 ? 64 : ((s->used + 1) * 4 > s->cap ? s->cap * 2 : s->cap);
    rw_objslot *slots = PyMem_RawCalloc((size_t)cap, sizeof(rw_objslot));
    if (slots == NULL) {
        return -1;
    }
    rw_objslot *old = s->slots;
    Py_ssize_t old_cap = s->cap;
    s->slots = slots;
    s->cap = cap;
    s->filled = s->used;
    for (Py_ssize_t i = 0; i < old_cap; i++) {
        if (old[i].addr != NULL && old[i].addr != TOMBSTONE) {
            size_t mask = (size_t)cap - 1;
            size_t j = rw_ptr_hash(old[i].addr) & mask;
            while (slots[j].addr != NULL) {
                j = (j + 1) & mask;
            }
            slots[j] = old[i];
        }
    }
    PyMem_RawFree(old);
    return 0;
}

/* rw_object_ref's making of a new ObjRef for ``target`` (first use), in the stripe ``s``. */
static RW_ObjRef *
object_ref_make(PyObject *target, rw_stripe *s)
{
    RW_ObjRef *found = NULL;
    if (!rw_tracking() || !PyType_SUPPORTS_WEAKREFS(Py_TYPE(target))) {
        return NULL;
    }
    int is_class = PyType_Check(target);
    PyTypeObject *type = is_class ? (PyTypeObject *)target : Py_TYPE(target);
    /* A heap type's __qualname__ is its ht_qualname: read directly, as type's getter does
     * (a lookup by name costs a fifth of this function's work). */
    PyObject *name = PyType_HasFeature(type, Py_TPFLAGS_HEAPTYPE)
        ? Py_XNewRef(((PyHeapTypeObject *)type)->ht_qualname)
        : PyObject_GetAttrString((PyObject *)type, "__qualname__");
    if (name == NULL) {
        PyErr_Clear();
        name = PyUnicode_FromString(type->tp_name);
        if (name == NULL) {
            return NULL;
        }
    }
    int depth = rw_settings->stack_depth < 8 ? rw_settings->stack_depth : 8;
    PyObject *stack = rw_capture(depth, NULL, NULL);
    PyObject *made = stack != NULL
        ? (PyObject *)rw_shadow_new(rw_kind_names[is_class ? RW_KIND_CLASS : RW_KIND_OBJECT],
                                    stack, name)
        : NULL;
    Py_XDECREF(stack);
    Py_DECREF(name);
    RW_ObjRef *ref = made != NULL
        ? (RW_ObjRef *)PyObject_CallFunctionObjArgs((PyObject *)&RW_ObjRefType, target,
                                                    died_callback, NULL)
        : NULL;
    if (ref == NULL) {
        Py_XDECREF(made);
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();   /* cannot be weakly referenced after all */
        }
        return NULL;
    }
    ref->addr = target;
    ref->shadow = made;
    ref->epoch.slot = -1;   /* no epoch's (the rest is zero) */
    /* Made first, then published: making them may have run another entry's callback. */
    stripe_lock(s);
    rw_objslot *slot = slot_find(s, target, 0);
    if (slot != NULL) {
        found = (RW_ObjRef *)Py_NewRef(slot->ref);   /* another thread was first */
    }
    else if (stripe_reserve(s) == 0) {
        slot = slot_find(s, target, 1);
        if (slot->addr == NULL) {
            s->filled++;
        }
        slot->addr = target;
        slot->ref = (RW_ObjRef *)Py_NewRef(ref);
        ref->published = 1;
        s->used++;
        found = (RW_ObjRef *)Py_NewRef(ref);
    }
    stripe_unlock(s);
    Py_DECREF(ref);
    if (found == NULL && !PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    return found;
}

/* The ObjRef of ``target`` (a new reference), holding the shadow of its attributes, made
 * on first use; NULL with no error set when it cannot be watched (not weakly
 * referenceable, the budget spent).  The lookup is kept apart from the making, which
 * every access after the first skips. */
RW_ObjRef *
rw_object_ref(PyObject *target)
{
#ifndef Py_GIL_DISABLED
    RW_ObjRef *listed = rw_object_ref_listed(target, 0);
    if (listed != NULL) {
        return (RW_ObjRef *)Py_NewRef(listed);
    }
#endif
    rw_stripe *s = stripe_of(target);
    RW_ObjRef *found = NULL;
    stripe_lock(s);
    rw_objslot *slot = slot_find(s, target, 0);
    if (slot != NULL) {
        found = (RW_ObjRef *)Py_NewRef(slot->ref);
    }
    stripe_unlock(s);
    return found != NULL ? found : object_ref_make(target, s);
}

/* The shadow of ``target``'s attributes (a new reference), or NULL as rw_object_ref. */
PyObject *
rw_object_shadow(PyObject *target)
{
    RW_ObjRef *ref = rw_object_ref(target);
    if (ref == NULL) {
        return NULL;
    }
    PyObject *sh = Py_NewRef(ref->shadow);
    Py_DECREF(ref);
    return sh;
}

/* The weak reference's callback: the object is dying; its entry goes. */
static PyObject *
object_died(PyObject *Py_UNUSED(module), PyObject *arg)
{
    if (!Py_IS_TYPE(arg, &RW_ObjRefType)) {
        Py_RETURN_NONE;
    }
    RW_ObjRef *ref = (RW_ObjRef *)arg;
    rw_stripe *s = stripe_of(ref->addr);
    RW_ObjRef *dropped = NULL;
    stripe_lock(s);
    rw_objslot *slot = slot_find(s, ref->addr, 0);
    if (slot != NULL && slot->ref == ref) {
        dropped = slot->ref;
        dropped->published = 0;
        slot->addr = TOMBSTONE;
        slot->ref = NULL;
        s->used--;
    }
    stripe_unlock(s);
    Py_XDECREF(dropped);
    Py_RETURN_NONE;
}

/* Forget every object's shadow (racewatch.stop(), and a forked child). */
void
rw_forget_objects(int after_fork)
{
    RW_ADD(&rw_objects_forgotten, 1);
    RW_ADD(&rw_epoch_memories_era, 1);
    for (int i = 0; i < STRIPES; i++) {
        rw_stripe *s = &stripes[i];
#ifdef Py_GIL_DISABLED
        if (after_fork) {
            memset(&s->mutex, 0, sizeof(s->mutex));
        }
#else
        (void)after_fork;
#endif
        stripe_lock(s);
        rw_objslot *slots = s->slots;
        Py_ssize_t cap = s->cap;
        s->slots = NULL;
        s->cap = s->used = s->filled = 0;
        for (Py_ssize_t j = 0; j < cap; j++) {
            if (slots[j].addr != NULL && slots[j].addr != TOMBSTONE) {
                slots[j].ref->published = 0;
            }
        }
        stripe_unlock(s);
        for (Py_ssize_t j = 0; j < cap; j++) {
            if (slots[j].addr != NULL && slots[j].addr != TOMBSTONE) {
                Py_DECREF(slots[j].ref);
            }
        }
        PyMem_RawFree(slots);
    }
}

static int
objref_traverse(RW_ObjRef *ref, visitproc visit, void *arg)
{
    Py_VISIT(ref->shadow);
    return _PyWeakref_RefType.tp_traverse((PyObject *)ref, visit, arg);
}

/* Empty ``e`` (its names are strings: releasing them runs no Python code). */
void
rw_epoch_names_reset(rw_epoch_names *e)
{
    for (int i = 0; i < e->n; i++) {
        Py_CLEAR(e->names[i]);
    }
    e->n = 0;
    e->written = 0;
    e->slot = -1;
}

static int
objref_clear(RW_ObjRef *ref)
{
    Py_CLEAR(ref->shadow);
    rw_epoch_names_reset(&ref->epoch);
    return _PyWeakref_RefType.tp_clear((PyObject *)ref);
}

static void
objref_dealloc(RW_ObjRef *ref)
{
    Py_CLEAR(ref->shadow);
    rw_epoch_names_reset(&ref->epoch);
    _PyWeakref_RefType.tp_dealloc((PyObject *)ref);
}

PyTypeObject RW_ObjRefType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "racewatch._core.ObjRef",
    .tp_doc = "A weak reference to a watched object, holding the shadow of its attributes.",
    .tp_basicsize = sizeof(RW_ObjRef),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)objref_traverse,
    .tp_clear = (inquiry)objref_clear,
    .tp_dealloc = (destructor)objref_dealloc,
};

static PyMethodDef died_def = {"_object_died", object_died, METH_O, NULL};

int
rw_object_shadow_ready(void)
{
    if (died_callback == NULL) {
        RW_ObjRefType.tp_base = &_PyWeakref_RefType;
        if (PyType_Ready(&RW_ObjRefType) < 0
                || (died_callback = PyCFunction_NewEx(&died_def, NULL, NULL)) == NULL) {
            return -1;
        }
    }
    return 0;
}
