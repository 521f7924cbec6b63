"""Reading and writing an array's elements through its address: the typing functions of the
``_load_at``/``_store_at`` intrinsics, written once for both targets.

Each target wraps them with its own ``intrinsic`` decorator and passes its ``types`` module
(``numba.core.types`` on the CPU, ``numba.cuda.types`` on CUDA); nothing here imports Numba.
"""

from __future__ import annotations


def load_at(types):
    """``_load_at(address, j, like)``: element ``j`` of the array of ``like``'s type at
    ``address`` (an integer)."""
    def _load_at(typingctx, address, j, like):
        def codegen(context, builder, signature, args):
            pointer = builder.inttoptr(args[0], context.get_value_type(like).as_pointer())
            index = context.cast(builder, args[1], signature.args[1], types.intp)
            return builder.load(builder.gep(pointer, [index]))
        return like(address, j, like), codegen
    return _load_at


def store_at(types):
    """``_store_at(address, j, value)``: write ``value`` to element ``j`` of the array of its
    type at ``address``."""
    def _store_at(typingctx, address, j, value):
        def codegen(context, builder, signature, args):
            pointer = builder.inttoptr(args[0], context.get_value_type(value).as_pointer())
            index = context.cast(builder, args[1], signature.args[1], types.intp)
            builder.store(args[2], builder.gep(pointer, [index]))
            return context.get_dummy_value()
        return types.void(address, j, value), codegen
    return _store_at
