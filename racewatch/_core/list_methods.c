/* The tracked list's methods: each records its access (with list.c's recorders, see
 * list.h), then calls list's own method, found once in list_base. */

#include "list.h"

enum {
    L_GETITEM, L_REVERSED, L_CLEAR, L_COPY, L_APPEND, L_INSERT, L_EXTEND, L_POP, L_REMOVE,
    L_INDEX, L_COUNT, L_REVERSE, L_SORT, L_REDUCE_EX, L_N
};

static base_method list_base[L_N] = {
    [L_GETITEM] = {"__getitem__"}, [L_REVERSED] = {"__reversed__"}, [L_CLEAR] = {"clear"},
    [L_COPY] = {"copy"}, [L_APPEND] = {"append"}, [L_INSERT] = {"insert"},
    [L_EXTEND] = {"extend"}, [L_POP] = {"pop"}, [L_REMOVE] = {"remove"},
    [L_INDEX] = {"index"}, [L_COUNT] = {"count"}, [L_REVERSE] = {"reverse"},
    [L_SORT] = {"sort"}, [L_REDUCE_EX] = {"__reduce_ex__"},
};

/* What append and extend do to the list, for rw_list_grown_at_end to record where. */
static PyObject *
grow_by_append(PyObject *self, PyObject *value)
{
    return PyList_Append(self, value) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *
grow_by_extend(PyObject *self, PyObject *iterable)
{
    return rw_base_call(&list_base[L_EXTEND], self, &iterable, 1);
}

/* -- the methods ----------------------------------------------------------------------------- */

static PyObject *
tl_getitem_method(PyObject *self, PyObject *key)
{
    return rw_list_subscript(self, key);
}

static PyObject *
tl_reversed(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_read_all(self, RW_OP(REVERSED)) < 0) {
        return NULL;
    }
    return rw_base_call(&list_base[L_REVERSED], self, NULL, 0);
}

/* A method that writes everything (clear, reverse). */
static PyObject *
rewrite_all(PyObject *self, PyObject *op, int which)
{
    if (rw_record_clear(self, op) < 0) {
        return NULL;
    }
    return rw_base_call(&list_base[which], self, NULL, 0);
}

static PyObject *
tl_clear(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return rewrite_all(self, RW_OP(CLEAR), L_CLEAR);
}

static PyObject *
tl_reverse(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return rewrite_all(self, RW_OP(REVERSE), L_REVERSE);
}

static PyObject *
tl_sort(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (rw_record_clear(self, RW_OP(SORT)) < 0) {
        return NULL;
    }
    return rw_base_call_kw(&list_base[L_SORT], self, args, nargs, kwnames);
}

static PyObject *
tl_copy(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    if (rw_record_read_all(self, RW_OP(COPY)) < 0) {
        return NULL;
    }
    return rw_track_new(rw_base_call(&list_base[L_COPY], self, NULL, 0));
}

static PyObject *
tl_append(PyObject *self, PyObject *value)
{
    return rw_list_grown_at_end(self, value, RW_OP(APPEND), grow_by_append, 1);
}

static PyObject *
tl_extend(PyObject *self, PyObject *iterable)
{
    return rw_list_grown_by(self, iterable, RW_OP(EXTEND), grow_by_extend);
}

static PyObject *
tl_insert(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = nargs == 2 ? rw_enter(self, &ts, &sh) : 0;
    if (e <= 0) {
        return e < 0 ? NULL : rw_base_call(&list_base[L_INSERT], self, args, nargs);
    }
    /* insert() clamps its index to the list: where the item goes is the position written
     * (and a negative index reads ``items``, as elsewhere). */
    PyObject *index = PyNumber_Index(args[0]);
    if (index != NULL) {
        Py_ssize_t i = PyLong_AsSsize_t(index);
        Py_ssize_t n = PyList_GET_SIZE(self);
        if (i == -1 && PyErr_Occurred()) {
            PyErr_Clear();   /* insert() raises its own OverflowError */
        }
        else {
            ts->accesses += i < 0 ? 2 : 1;
            e = i < 0 ? rw_on_keys_read(ts, sh, RW_OP(INSERT)) : 0;
            i = i < 0 ? (i + n < 0 ? 0 : i + n) : (i > n ? n : i);
            PyObject *pos = e < 0 ? NULL : PyLong_FromSsize_t(i);
            if (pos == NULL || rw_on_write(ts, sh, self, pos, RW_OP(INSERT), 1) < 0) {
                Py_CLEAR(index);
            }
            Py_XDECREF(pos);
        }
    }
    Py_DECREF(ts);
    if (index == NULL) {
        return NULL;
    }
    PyObject *pass[2] = {index, args[1]};
    PyObject *r = rw_base_call(&list_base[L_INSERT], self, pass, 2);
    Py_DECREF(index);
    return r;
}

static PyObject *
tl_pop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 1) {
        return rw_base_call(&list_base[L_POP], self, args, nargs);   /* its own TypeError */
    }
    if (PyList_GET_SIZE(self) == 0) {
        /* IndexError: pop from empty list (the length decides) */
        if (rw_record_keys_read(self, RW_OP(POP)) < 0) {
            return NULL;
        }
        return rw_base_call(&list_base[L_POP], self, args, nargs);
    }
    if (nargs == 0) {
        if (rw_list_record_position(self, -1, RW_OP(POP), REMOVAL) < 0) {
            return NULL;
        }
        return rw_base_call(&list_base[L_POP], self, args, 0);
    }
    PyObject *index = rw_list_record_key(self, args[0], RW_OP(POP), REMOVAL);
    if (index == NULL) {
        return NULL;
    }
    PyObject *r = rw_base_call(&list_base[L_POP], self, &index, 1);
    Py_DECREF(index);
    return r;
}

static PyObject *
tl_remove(PyObject *self, PyObject *value)
{
    RW_ThreadState *ts;
    RW_Shadow *sh;
    int e = rw_enter(self, &ts, &sh);
    if (e <= 0) {
        return e < 0 ? NULL : rw_base_call(&list_base[L_REMOVE], self, &value, 1);
    }
    /* A search (a read of every item, as index()), then the removal of what it found: the
     * comparisons are list.remove's own, in its order, each made once. */
    PyObject *r = NULL;
    ts->accesses++;
    if (rw_on_read_all(ts, sh, RW_OP(REMOVE)) < 0) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self); i++) {
#ifdef Py_GIL_DISABLED
        /* Another thread may shrink the list between two items: fetched safely. */
        PyObject *item = PyList_GetItemRef(self, i);
        if (item == NULL) {
            PyErr_Clear();
            break;
        }
#else
        PyObject *item = Py_NewRef(PyList_GET_ITEM(self, i));
#endif
        int cmp = PyObject_RichCompareBool(item, value, Py_EQ);
        Py_DECREF(item);
        if (cmp < 0) {
            goto done;
        }
        if (cmp > 0) {
            if (rw_list_at_position(ts, sh, self, i, RW_OP(REMOVE), REMOVAL) == 0
                    && PyList_SetSlice(self, i, i + 1, NULL) == 0) {
                r = Py_NewRef(Py_None);
            }
            goto done;
        }
    }
    PyErr_SetString(PyExc_ValueError, "list.remove(x): x not in list");
done:
    Py_DECREF(ts);
    return r;
}

static PyObject *
tl_index(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (rw_record_read_all(self, RW_OP(INDEX)) < 0) {
        return NULL;
    }
    return rw_base_call(&list_base[L_INDEX], self, args, nargs);
}

static PyObject *
tl_count(PyObject *self, PyObject *value)
{
    if (rw_record_read_all(self, RW_OP(COUNT_OF)) < 0) {
        return NULL;
    }
    return rw_base_call(&list_base[L_COUNT], self, &value, 1);
}

/* A plain list in the pickle (loading it never needs racewatch), as a list subclass
 * reduces: copyreg.__newobj__ from protocol 2 on; before, list and its items. */
static PyObject *
tl_reduce_ex(PyObject *self, PyObject *protocol)
{
    long proto = PyLong_AsLong(protocol);
    if (proto == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (rw_record_read_all(self, RW_OP(REDUCE)) < 0) {
        return NULL;
    }
    PyObject *it = PyList_Type.tp_iter(self);
    if (it == NULL) {
        return NULL;
    }
    if (proto >= 2) {
        return Py_BuildValue("(O(O)ONO)", rw_copyreg_newobj, (PyObject *)&PyList_Type, Py_None,
                             it, Py_None);
    }
    return Py_BuildValue("(OOONO)", (PyObject *)&PyList_Type, rw_empty_tuple, Py_None, it,
                         Py_None);
}

static method_spec list_methods[] = {
    {{"__getitem__", tl_getitem_method, METH_O, NULL}, L_GETITEM},
    {{"__reversed__", tl_reversed, METH_NOARGS, NULL}, L_REVERSED},
    {{"clear", tl_clear, METH_NOARGS, NULL}, L_CLEAR},
    {{"copy", tl_copy, METH_NOARGS, NULL}, L_COPY},
    {{"append", tl_append, METH_O, NULL}, L_APPEND},
    {{"insert", RW_CFUNC(tl_insert), METH_FASTCALL, NULL}, L_INSERT},
    {{"extend", tl_extend, METH_O, NULL}, L_EXTEND},
    {{"pop", RW_CFUNC(tl_pop), METH_FASTCALL, NULL}, L_POP},
    {{"remove", tl_remove, METH_O, NULL}, L_REMOVE},
    {{"index", RW_CFUNC(tl_index), METH_FASTCALL, NULL}, L_INDEX},
    {{"count", tl_count, METH_O, NULL}, L_COUNT},
    {{"reverse", tl_reverse, METH_NOARGS, NULL}, L_REVERSE},
    {{"sort", RW_CFUNC(tl_sort), METH_FASTCALL | METH_KEYWORDS, NULL}, L_SORT},
    {{"__reduce_ex__", tl_reduce_ex, METH_O, NULL}, L_REDUCE_EX},
};

/* list's own methods (and object's __reduce_ex__, which list inherits), before the type is
 * made ready. */
int
rw_list_methods_load(void)
{
    if (rw_base_table_load(list_base, L_REDUCE_EX, &PyList_Type) < 0
            || rw_base_method_load(&list_base[L_REDUCE_EX], &PyBaseObject_Type) < 0) {
        return -1;
    }
    return 0;
}

/* The methods, as descriptors of list, on the ready type. */
int
rw_list_methods_install(PyTypeObject *type)
{
    return rw_install_methods(type, list_methods, sizeof(list_methods) / sizeof(list_methods[0]),
                              &PyList_Type, list_base);
}
