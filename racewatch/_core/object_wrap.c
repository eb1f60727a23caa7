/* object.__setattr__ and object.__delattr__ for an instance of a class whose tp_setattro is
 * the hook's (3.10-3.12; object.h says which classes have it).
 *
 * Up to 3.12, object's slot wrappers refuse to apply object's setattro to an object whose
 * type, or a base of it before object, has a C-level tp_setattro of its own
 * (typeobject.c's hackcheck: "can't apply this __setattr__ to X object"); only a Python
 * class's, slot_tp_setattro, is let through.  rw_obj_setattro is object's own with the
 * access checked, put on classes that have no __setattr__ or __delattr__ of their own or a
 * base's: ``object.__setattr__(obj, ...)`` is right for them, and frozen dataclasses,
 * attrs and many ``__setattr__`` overrides call it.  So while a class has it, the two
 * descriptors in object's namespace call the wrappers below: for an object none of whose
 * classes has rw_obj_setattro they call CPython's own wrapper, unchanged; for the others
 * they make the same check with rw_obj_setattro taken for what it stands for, a Python
 * class's slot.  rw_object_wrap_restore() gives the descriptors back CPython's.
 *
 * The wrapper a descriptor calls is read from its d_base at each call (descrobject.c's
 * wrapperdescr_raw_call, for ``object.__setattr__(obj, ...)`` and for the bound
 * ``obj.__setattr__``): a copy of CPython's wrapperbase with only the function changed
 * keeps its name, doc and flags.  GIL builds only (3.13 checks types alone), so a pointer
 * store is all a change needs.
 */

#include "object.h"

#if PY_VERSION_HEX < 0x030D0000

static PyWrapperDescrObject *set_descr, *del_descr;   /* object's (strong references) */
static struct wrapperbase *cpython_set, *cpython_del; /* their own d_base */
static struct wrapperbase ours_set, ours_del;         /* copies, with our wrappers */
static setattrofunc python_class_slot;                /* typeobject.c's slot_tp_setattro */

static int
python_level(setattrofunc f)
{
    return f == python_class_slot || f == rw_obj_setattro;
}

static int
hooked_in_mro(PyTypeObject *type)
{
    PyObject *mro = type->tp_mro;
    Py_ssize_t n = mro != NULL ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (((PyTypeObject *)PyTuple_GET_ITEM(mro, i))->tp_setattro == rw_obj_setattro) {
            return 1;
        }
    }
    return 0;
}

/* typeobject.c's hackcheck (3.9-3.12), rw_obj_setattro counted as a Python class's slot:
 * whether ``func`` is the setattro that the nearest C-level class of the object's type
 * defines. */
static int
applies(PyObject *self, setattrofunc func, const char *what)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject *mro = type->tp_mro;
    PyTypeObject *defining = type;   /* the (base) type that defined the type's slot */
    for (Py_ssize_t i = PyTuple_GET_SIZE(mro) - 1; i >= 0; i--) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!python_level(base->tp_setattro) && base->tp_setattro == type->tp_setattro) {
            defining = base;
            break;
        }
    }
    for (PyTypeObject *base = defining; base != NULL; base = base->tp_base) {
        if (base->tp_setattro == func) {
            return 1;
        }
        if (!python_level(base->tp_setattro)) {
            PyErr_Format(PyExc_TypeError, "can't apply this %s to %s object", what,
                         type->tp_name);
            return 0;
        }
    }
    return 1;
}

/* Object's wrapper of ``what`` (``nargs``: 2, name and value, for __setattr__; 1 for
 * __delattr__): what CPython's does, the check aside.  Any call that is not one to let
 * through (wrong arguments too: CPython's wrapper says what is wrong with them) is
 * CPython's wrapper's (``cpython``). */
static PyObject *
wrap(PyObject *self, PyObject *args, void *wrapped, Py_ssize_t nargs,
     const struct wrapperbase *cpython, const char *what)
{
    if (!PyTuple_CheckExact(args) || PyTuple_GET_SIZE(args) != nargs
            || !hooked_in_mro(Py_TYPE(self))) {
        return cpython->wrapper(self, args, wrapped);
    }
    setattrofunc func = (setattrofunc)wrapped;
    if (!applies(self, func, what)) {
        return NULL;
    }
    PyObject *value = nargs == 2 ? PyTuple_GET_ITEM(args, 1) : NULL;
    if (func(self, PyTuple_GET_ITEM(args, 0), value) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
wrap_set(PyObject *self, PyObject *args, void *wrapped)
{
    return wrap(self, args, wrapped, 2, cpython_set, "__setattr__");
}

static PyObject *
wrap_del(PyObject *self, PyObject *args, void *wrapped)
{
    return wrap(self, args, wrapped, 1, cpython_del, "__delattr__");
}

/* ``object.<name>``, when it is the slot wrapper of PyObject_GenericSetAttr that this file
 * knows (a new reference); NULL, with no exception set, when not. */
static PyWrapperDescrObject *
object_wrapper(const char *name)
{
    PyObject *d = PyObject_GetAttrString((PyObject *)&PyBaseObject_Type, name);
    if (d == NULL || !Py_IS_TYPE(d, &PyWrapperDescr_Type)
            || ((PyWrapperDescrObject *)d)->d_wrapped != (void *)PyObject_GenericSetAttr) {
        PyErr_Clear();
        Py_XDECREF(d);
        return NULL;
    }
    return (PyWrapperDescrObject *)d;
}

int
rw_object_wrap_install(setattrofunc slot)
{
    if (set_descr != NULL) {
        return 1;
    }
    if (slot == PyObject_GenericSetAttr || slot == rw_obj_setattro) {
        return 0;
    }
    python_class_slot = slot;
    PyWrapperDescrObject *s = object_wrapper("__setattr__");
    PyWrapperDescrObject *d = s != NULL ? object_wrapper("__delattr__") : NULL;
    if (d == NULL) {
        Py_XDECREF(s);
        return 0;   /* not the CPython this file knows: classes keep the slot's way */
    }
    set_descr = s;
    del_descr = d;
    cpython_set = s->d_base;
    cpython_del = d->d_base;
    ours_set = *cpython_set;
    ours_set.wrapper = wrap_set;
    ours_del = *cpython_del;
    ours_del.wrapper = wrap_del;
    s->d_base = &ours_set;
    d->d_base = &ours_del;
    return 1;
}

void
rw_object_wrap_restore(void)
{
    if (set_descr == NULL) {
        return;
    }
    set_descr->d_base = cpython_set;
    del_descr->d_base = cpython_del;
    Py_CLEAR(set_descr);
    Py_CLEAR(del_descr);
}

#else

int
rw_object_wrap_install(setattrofunc Py_UNUSED(slot))
{
    return 1;   /* 3.13 lets object's wrappers through for every instance */
}

void
rw_object_wrap_restore(void)
{
}

#endif
