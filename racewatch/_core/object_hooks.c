/* The table of hooked classes (object.h says what the hooks do): for each type whose
 * tp_getattro is the hook, or was, what it had; hook_class() and unhook_classes().
 *
 * CONSISTENCY.  GIL builds: the table runs no Python code while it changes (the weak
 * reference an entry holds is made before the table is touched, since making it may
 * collect garbage and so run other entries' callbacks).  Free-threaded builds: it changes
 * under a mutex and is read without a lock: an entry is written whole before its type
 * pointer is published, and a table that grows is replaced by a copy, the old one kept
 * (readers may still be in it).
 */

#include "object.h"

#ifdef Py_GIL_DISABLED
#define RW_ATOMIC_LOAD(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define RW_ATOMIC_STORE(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#else
#define RW_ATOMIC_LOAD(p) (p)
#define RW_ATOMIC_STORE(p, v) ((p) = (v))
#endif

PyObject *rw_str_setattr_name, *rw_str_delattr_name;

/* -- the hooks: what each hooked type had ------------------------------------------------ */

typedef struct {
    Py_ssize_t cap;          /* a power of two */
    Py_ssize_t n;
    rw_hook items[1];
} rw_hook_table;

static rw_hook_table *hooks = NULL;
static PyObject *type_died_callback = NULL;
/* A dead type's place: probes go past it, no type is ever it, and the table's next copy
 * leaves it out.  Without it, a class made where a dead hooked class was would be taken
 * for it (its slots, its "already hooked"), and stop() would write into freed memory. */
#define HOOK_DEAD ((PyTypeObject *)1)
#ifdef Py_GIL_DISABLED
static PyMutex hooks_mutex;
#endif

static const rw_hook *
hook_find(rw_hook_table *table, PyTypeObject *type)
{
    if (table == NULL) {
        return NULL;
    }
    size_t mask = (size_t)table->cap - 1;
    for (size_t i = rw_ptr_hash(type) & mask;; i = (i + 1) & mask) {
        PyTypeObject *t = RW_ATOMIC_LOAD(table->items[i].type);
        if (t == type) {
            return &table->items[i];
        }
        if (t == NULL) {
            return NULL;
        }
    }
}

/* The entry of ``type`` itself (not a base's), or NULL. */
const rw_hook *
rw_hook_find(PyTypeObject *type)
{
    return hook_find(RW_ATOMIC_LOAD(hooks), type);
}

/* Add (or find) the entry of ``type``; called with the hooks' lock held (or the GIL).
 * ``alive`` (a weak reference to the type, made beforehand: making it may collect garbage)
 * is taken by a new entry, and released otherwise. */
static rw_hook *
hook_add(PyTypeObject *type, getattrofunc getattro, PyObject *alive)
{
    rw_hook_table *table = hooks;
    if (table == NULL || (table->n + 1) * 2 > table->cap) {
        Py_ssize_t cap = table == NULL ? 16 : table->cap * 2;
        rw_hook_table *grown = PyMem_RawCalloc(1, sizeof(rw_hook_table)
                                               + (size_t)(cap - 1) * sizeof(rw_hook));
        if (grown == NULL) {
            Py_DECREF(alive);
            PyErr_NoMemory();
            return NULL;
        }
        grown->cap = cap;
        for (Py_ssize_t i = 0; table != NULL && i < table->cap; i++) {
            rw_hook *h = &table->items[i];
            if (h->type == NULL || h->type == HOOK_DEAD) {
                continue;
            }
            size_t mask = (size_t)cap - 1;
            size_t j = rw_ptr_hash(h->type) & mask;
            while (grown->items[j].type != NULL) {
                j = (j + 1) & mask;
            }
            grown->items[j] = *h;
            grown->n++;
        }
        /* The old table is kept: on a free-threaded build a reader may still be in it. */
        RW_ATOMIC_STORE(hooks, grown);
        table = grown;
    }
    size_t mask = (size_t)table->cap - 1;
    size_t i = rw_ptr_hash(type) & mask;
    while (table->items[i].type != NULL && table->items[i].type != type) {
        i = (i + 1) & mask;
    }
    rw_hook *h = &table->items[i];
    if (h->type == NULL) {
        h->alive = alive;
        h->getattro = getattro;
        h->own_setattr = h->own_delattr = NULL;
        h->installed = 0;
        RW_ATOMIC_STORE(h->type, type);   /* published whole */
        table->n++;
    }
    else {
        Py_DECREF(alive);
    }
    return h;
}

/* A weak reference to ``type`` whose callback marks its entry dead, or NULL (an error). */
static PyObject *
alive_ref(PyTypeObject *type)
{
    return PyWeakref_NewRef((PyObject *)type, type_died_callback);
}

/* The weak reference's callback: a hooked type (or a subclass that inherited the hook)
 * is dying, its memory not yet freed; its entry is marked dead and lets go of what it
 * held. */
static PyObject *
type_died(PyObject *Py_UNUSED(module), PyObject *alive)
{
    PyObject *own_set = NULL, *own_del = NULL, *ref = NULL;
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&hooks_mutex);
#endif
    rw_hook_table *table = hooks;
    for (Py_ssize_t i = 0; table != NULL && i < table->cap; i++) {
        rw_hook *h = &table->items[i];
        if (h->alive == alive && h->type != NULL && h->type != HOOK_DEAD) {
            RW_ATOMIC_STORE(h->type, HOOK_DEAD);
            own_set = h->own_setattr;
            own_del = h->own_delattr;
            ref = h->alive;
            h->own_setattr = h->own_delattr = h->alive = NULL;
            h->installed = 0;
            break;
        }
    }
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&hooks_mutex);
#endif
    Py_XDECREF(own_set);
    Py_XDECREF(own_del);
    Py_XDECREF(ref);
    Py_RETURN_NONE;
}

/* The entry of the first base of ``type`` that has one, or NULL (nothing added). */
static const rw_hook *
hooked_base(PyTypeObject *type)
{
    PyObject *mro = type->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    const rw_hook *h = NULL;
    for (Py_ssize_t i = 1; i < n && h == NULL; i++) {
        h = hook_find(RW_ATOMIC_LOAD(hooks), (PyTypeObject *)PyTuple_GET_ITEM(mro, i));
    }
    return h;
}

/* What ``type`` had before the hook: its own entry, or its first hooked base's (a
 * subclass inherits the hook), remembered for next time.  Never NULL for a type whose
 * slots are the hooks. */
const rw_hook *
rw_hook_of(PyTypeObject *type)
{
    const rw_hook *h = hook_find(RW_ATOMIC_LOAD(hooks), type);
    if (h != NULL) {
        return h;
    }
    if ((h = hooked_base(type)) == NULL) {
        return NULL;
    }
    const rw_hook *mine;
    getattrofunc getattro = h->getattro;
    PyObject *alive = alive_ref(type);
    if (alive == NULL) {
        PyErr_Clear();
        return h;
    }
    /* making it may have collected garbage: h may be a dead type's now, look again */
    h = hook_find(RW_ATOMIC_LOAD(hooks), type);
    if (h != NULL) {
        Py_DECREF(alive);
        return h;
    }
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&hooks_mutex);
#endif
    mine = hook_add(type, getattro, alive);
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&hooks_mutex);
#endif
    if (mine == NULL) {
        PyErr_Clear();
        return h;
    }
    return mine;
}

/* Whether the next __setattr__ and __delattr__ after ``type`` in its MRO are object's. */
static int
generic_after(PyTypeObject *type)
{
    PyObject *mro = type->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 1; i < n; i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (base == &PyBaseObject_Type) {
            return 1;
        }
        PyObject *ns = base->tp_dict;
        if (ns == NULL || PyDict_Contains(ns, rw_str_setattr_name) != 0
                || PyDict_Contains(ns, rw_str_delattr_name) != 0) {
            PyErr_Clear();
            return 0;
        }
    }
    return 0;
}

static PyObject *
hook_class(PyObject *Py_UNUSED(module), PyObject *cls)
{
    if (!PyType_Check(cls)) {
        return Py_NewRef(cls);   /* a class decorator that did not return a class */
    }
    PyTypeObject *type = (PyTypeObject *)cls;
    if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || (type->tp_flags & Py_TPFLAGS_IMMUTABLETYPE)) {
        return Py_NewRef(cls);
    }
    int rc = 0, generic_next = 0;
    rw_hook *h = NULL;
    PyObject *ns = type->tp_dict;
    PyObject *own_set = ns != NULL ? PyDict_GetItemWithError(ns, rw_str_setattr_name) : NULL;
    PyObject *own_del = ns != NULL && !PyErr_Occurred()
                        ? PyDict_GetItemWithError(ns, rw_str_delattr_name) : NULL;
    if (PyErr_Occurred()) {
        return NULL;
    }
    PyObject *alive = alive_ref(type);
    if (alive == NULL) {
        return NULL;
    }
#ifdef Py_GIL_DISABLED
    PyMutex_Lock(&hooks_mutex);
#endif
    const rw_hook *known = hook_find(hooks, type);
    if (known == NULL || !known->installed) {
        getattrofunc get = type->tp_getattro;
        if (rw_is_hook(get)) {   /* inherited: what the base that has it had */
            const rw_hook *base = known != NULL ? known : hooked_base(type);
            get = base != NULL ? base->getattro : PyObject_GenericGetAttr;
        }
        h = hook_add(type, get, alive);
        if (h == NULL) {
            rc = -1;
        }
        else {
            h->installed = 1;
            Py_XSETREF(h->own_setattr, Py_XNewRef(own_set));
            Py_XSETREF(h->own_delattr, Py_XNewRef(own_del));
            h->generic_next = own_set == NULL && own_del == NULL && generic_after(type);
            generic_next = h->generic_next;
            type->tp_getattro = get == PyObject_GenericGetAttr ? rw_obj_getattro_generic
                                                               : rw_obj_getattro;
        }
    }
    else {
        Py_DECREF(alive);
    }
#ifdef Py_GIL_DISABLED
    PyMutex_Unlock(&hooks_mutex);
#endif
    if (rc < 0) {
        return NULL;
    }
    if (h != NULL) {
        /* Setting them updates the type's tp_setattro (to the one that looks them up). */
        PyObject *set = PyDescr_NewMethod(type, &rw_setattr_def);
        PyObject *del = set != NULL ? PyDescr_NewMethod(type, &rw_delattr_def) : NULL;
        /* type's own setattro: a metaclass's __setattr__ has no say in this */
        if (del == NULL || PyType_Type.tp_setattro(cls, rw_str_setattr_name, set) < 0
                || PyType_Type.tp_setattro(cls, rw_str_delattr_name, del) < 0) {
            rc = -1;
        }
        Py_XDECREF(set);
        Py_XDECREF(del);
        /* (the slot that setting __setattr__ gave it is a Python class's) */
        if (rc == 0 && generic_next && rw_object_wrap_install(type->tp_setattro)) {
            type->tp_setattro = rw_obj_setattro;
        }
    }
    PyType_Modified(type);   /* the interpreter's caches and specializations go */
    rw_instance_values_forget();   /* and so does what object_values.c remembers */
    if (rc < 0) {
        return NULL;
    }
    return Py_NewRef(cls);
}

/* -- stop ------------------------------------------------------------------------------- */

/* Give ``type`` back its own ``name`` (``own``, or none when NULL); 0 when done or when
 * the program's own change to the class stands in the way (AttributeError, TypeError). */
static int
restore(PyTypeObject *type, PyObject *name, PyObject *own)
{
    if (PyType_Type.tp_setattro((PyObject *)type, name, own) == 0) {
        return 0;
    }
    if (PyErr_ExceptionMatches(PyExc_AttributeError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

/* Whether a type of the table still has rw_obj_setattro (one whose names restore() could
 * not give back). */
static int
direct_setattro_left(const rw_hook_table *table)
{
    for (Py_ssize_t i = 0; table != NULL && i < table->cap; i++) {
        PyTypeObject *type = table->items[i].type;
        if (type != NULL && type != HOOK_DEAD && type->tp_setattro == rw_obj_setattro) {
            return 1;
        }
    }
    return 0;
}

static PyObject *
unhook_classes(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    /* Every type whose slot is the hook gets back what it had, and every hooked class its
     * own __setattr__ and __delattr__ (or none); the table stays, for a subclass made
     * meanwhile that still has the hook (it calls what the subclass had). */
    rw_hook_table *table = RW_ATOMIC_LOAD(hooks);
    int rc = 0;
    for (Py_ssize_t i = 0; table != NULL && i < table->cap; i++) {
        rw_hook *h = &table->items[i];
        PyTypeObject *type = h->type;
        if (type == NULL || type == HOOK_DEAD) {
            continue;
        }
        Py_INCREF(type);   /* what runs below (a collection) must not free it meanwhile */
        if (rw_is_hook(type->tp_getattro)) {
            type->tp_getattro = h->getattro;
            PyType_Modified(type);
        }
        if (h->installed) {
            h->installed = 0;
            PyObject *own_set = h->own_setattr, *own_del = h->own_delattr;
            h->own_setattr = h->own_delattr = NULL;
            /* type's own setattro: a metaclass's __setattr__ has no say in this.  A class
             * the program changed meanwhile (its hook deleted or replaced) keeps what it
             * has now, as objects.py's unhook_classes does; any other error is raised,
             * once every class had its turn. */
            if (restore(type, rw_str_setattr_name, own_set) < 0
                    || restore(type, rw_str_delattr_name, own_del) < 0) {
                rc = -1;
            }
            Py_XDECREF(own_set);
            Py_XDECREF(own_del);
        }
        Py_DECREF(type);
    }
    if (!direct_setattro_left(table)) {
        rw_object_wrap_restore();
    }
    rw_instance_values_forget();
    PyObject *exc = rc < 0 ? rw_err_fetch() : NULL;
    rw_forget_objects(0);
    if (exc != NULL) {
        rw_err_restore(exc);
        return NULL;
    }
    Py_RETURN_NONE;
}

void
rw_object_hooks_after_fork(void)
{
#ifdef Py_GIL_DISABLED
    memset(&hooks_mutex, 0, sizeof(hooks_mutex));
#endif
}

static PyMethodDef hook_functions[] = {
    {"hook_class", hook_class, METH_O,
     "Watch the attributes of the class's instances (and of its subclasses'); returns it."},
    {"unhook_classes", unhook_classes, METH_NOARGS,
     "Give every hooked class back its own attribute slots; forget every object."},
    {NULL}
};

static PyMethodDef type_died_def = {"_type_died", type_died, METH_O, NULL};

int
rw_object_hooks_ready(PyObject *module)
{
    if (type_died_callback == NULL
            && ((type_died_callback = PyCFunction_NewEx(&type_died_def, NULL, NULL)) == NULL
                || (rw_str_setattr_name = PyUnicode_InternFromString("__setattr__")) == NULL
                || (rw_str_delattr_name = PyUnicode_InternFromString("__delattr__")) == NULL)) {
        return -1;
    }
    return PyModule_AddFunctions(module, hook_functions);
}
