# The one Python-boundary check shared by every ring: a wrong-sized or strided array would
# corrupt neighbouring slots, and a closed ring has no mapping left to touch.
cimport numpy as cnp

cdef inline int check_records(cnp.ndarray arr, Py_ssize_t rsize, object segment, const void *mapped) except -1:
    if mapped == NULL:
        from shm.errors import ShmError
        raise ShmError(f"ring {segment.name} is closed")
    if cnp.PyArray_ITEMSIZE(arr) != rsize or not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        from shm.errors import RecordSizeError
        raise RecordSizeError(
            f"ring {segment.name}: expected a C-contiguous array of {rsize}-byte records, "
            f"got itemsize {cnp.PyArray_ITEMSIZE(arr)}, contiguous={bool(cnp.PyArray_IS_C_CONTIGUOUS(arr))}")
    return 0
