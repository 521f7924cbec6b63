"""Shape layers and distances of a convolutional network compared with torch: F.pad and the
padding modules, interpolate and Upsample, unfold/fold, pixel (un)shuffle, Unflatten,
cosine_similarity, pairwise_distance, normalize; values, gradients, grad_fn names, reprs and
errors, on the CPU and on (simulated) CUDA."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error, check_op, rand_array

PADS = {  # name: (fn(lib, x), input shape)
    "constant_last": (lambda lib, x: lib.nn.functional.pad(x, (1, 2)), (2, 3, 4)),
    "constant_value": (lambda lib, x: lib.nn.functional.pad(x, (1, 0, 2, 1), value=3.5),
                       (2, 3, 4)),
    "constant_all_dims": (lambda lib, x: lib.nn.functional.pad(x, [1, 1, 0, 2, 1, 0]),
                          (2, 3, 4)),
    "constant_negative": (lambda lib, x: lib.nn.functional.pad(x, (-1, 2, 1, -2)), (2, 3, 4)),
    "constant_mode": (lambda lib, x: lib.nn.functional.pad(x, (2, 2), "constant", -1.0),
                      (3, 4)),
    "reflect_1d": (lambda lib, x: lib.nn.functional.pad(x, (2, 3), "reflect"), (2, 3, 4)),
    "reflect_1d_unbatched": (lambda lib, x: lib.nn.functional.pad(x, (3, 1), "reflect"), (3, 4)),
    "reflect_2d": (lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 0), mode="reflect"),
                   (2, 2, 3, 4)),
    "reflect_3d": (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 0, 0, 1), "reflect"),
                   (1, 2, 2, 3, 3)),
    "reflect_negative": (lambda lib, x: lib.nn.functional.pad(x, (-1, 1, 0, 0), "reflect"),
                         (2, 3, 4)),
    "replicate_1d": (lambda lib, x: lib.nn.functional.pad(x, (3, 5), "replicate"), (2, 3, 2)),
    "replicate_2d": (lambda lib, x: lib.nn.functional.pad(x, (1, 2, 3, 0), "replicate"),
                     (2, 2, 3, 2)),
    "replicate_2d_unbatched": (lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1),
                                                                    "replicate"), (2, 3, 2)),
    "replicate_3d": (lambda lib, x: lib.nn.functional.pad(x, (1, 0, 0, 1, 2, 1), "replicate"),
                     (1, 2, 2, 2, 3)),
    "circular_1d": (lambda lib, x: lib.nn.functional.pad(x, (2, 3), "circular"), (2, 3, 4)),
    "circular_2d": (lambda lib, x: lib.nn.functional.pad(x, (1, 2, 2, 1), "circular"),
                    (2, 2, 3, 4)),
    "circular_exact": (lambda lib, x: lib.nn.functional.pad(x, (4, 4), "circular"), (1, 2, 4)),
    "circular_negative": (lambda lib, x: lib.nn.functional.pad(x, (-1, 1, 0, 0), "circular"),
                          (1, 2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(PADS))
def test_pad(name, device):
    fn, shape = PADS[name]
    check_op(fn, rand_array(shape), device=device)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_integers(mode, device):
    check_op(lambda lib, x: lib.nn.functional.pad(x, (1, 2), mode), rand_array((2, 5), "int64"),
             device=device, grad=False)


PAD_ERRORS = {
    "odd": lambda lib: lib.nn.functional.pad(lib.ones(2, 3), (1,)),
    "too_long": lambda lib: lib.nn.functional.pad(lib.ones(2, 3), (1, 1) * 3),
    "zero_dim": lambda lib: lib.nn.functional.pad(lib.tensor(1.0), (1, 1)),
    "reflect_too_big": lambda lib: lib.nn.functional.pad(lib.ones(2, 3, 4), (4, 1), "reflect"),
    "reflect_2d_too_big": lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 2, 5), (1, 1, 2, 0),
                                                            "reflect"),
    "bad_mode": lambda lib: lib.nn.functional.pad(lib.ones(2, 3), (1, 1), "foo"),
    "value_with_reflect": lambda lib: lib.nn.functional.pad(lib.ones(2, 3), (1, 1), "reflect",
                                                            2.0),
    "crop_too_much": lambda lib: lib.nn.functional.pad(lib.ones(2, 3), (-2, -2)),
    "circular_wraps_twice": lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3), (4, 0),
                                                              "circular"),
    "replicate_1d_input": lambda lib: lib.nn.functional.pad(lib.ones(3), (1, 1), "replicate"),
    "reflect_6_on_3d": lambda lib: lib.nn.functional.pad(lib.ones(2, 3, 4), (1,) * 6,
                                                         "reflect"),
    "float_pad": lambda lib: lib.nn.functional.pad(lib.ones(2, 3), (1.5, 1)),
    "circular_module_rank": lambda lib: lib.nn.CircularPad2d(1)(lib.ones(2, 3)),
}


@pytest.mark.parametrize("name", sorted(PAD_ERRORS))
def test_pad_errors(name, device):
    check_error(PAD_ERRORS[name], device=device)


PAD_MODULES = {
    "ZeroPad1d": (lambda nn: nn.ZeroPad1d(1), (2, 3, 4)),
    "ZeroPad2d": (lambda nn: nn.ZeroPad2d(2), (2, 3, 4)),
    "ZeroPad2d_tuple": (lambda nn: nn.ZeroPad2d((1, 2, 0, 1)), (2, 3, 4)),
    "ZeroPad3d": (lambda nn: nn.ZeroPad3d(1), (1, 2, 2, 2)),
    "ConstantPad1d": (lambda nn: nn.ConstantPad1d(2, 3.5), (2, 3, 4)),
    "ConstantPad2d": (lambda nn: nn.ConstantPad2d((1, 2, 3, 0), 0), (2, 3, 4)),
    "ConstantPad3d": (lambda nn: nn.ConstantPad3d(1, 2.0), (1, 2, 2, 2)),
    "ReflectionPad1d": (lambda nn: nn.ReflectionPad1d(2), (2, 3, 4)),
    "ReflectionPad2d": (lambda nn: nn.ReflectionPad2d((1, 1, 2, 0)), (1, 2, 3, 4)),
    "ReflectionPad3d": (lambda nn: nn.ReflectionPad3d(1), (1, 1, 2, 3, 2)),
    "ReplicationPad1d": (lambda nn: nn.ReplicationPad1d((1, 2)), (2, 3, 4)),
    "ReplicationPad2d": (lambda nn: nn.ReplicationPad2d(1), (1, 2, 3, 4)),
    "ReplicationPad3d": (lambda nn: nn.ReplicationPad3d((1, 0, 0, 1, 1, 0)), (1, 1, 2, 3, 2)),
    "CircularPad1d": (lambda nn: nn.CircularPad1d(1), (2, 3, 4)),
    "CircularPad2d": (lambda nn: nn.CircularPad2d((1, 0, 2, 1)), (1, 2, 3, 4)),
    "CircularPad3d": (lambda nn: nn.CircularPad3d(1), (1, 1, 2, 3, 2)),
}


@pytest.mark.parametrize("name", sorted(PAD_MODULES))
def test_pad_module(name, device):
    make, shape = PAD_MODULES[name]
    assert repr(make(gputensor.nn)) == repr(make(torch.nn))
    check_op(lambda lib, x: make(lib.nn)(x), rand_array(shape), device=device)


INTERPOLATIONS = {  # name: (fn(lib, x), input shape)
    "nearest_scale_2": (lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2),
                        (2, 3, 4)),
    "nearest_size": (lambda lib, x: lib.nn.functional.interpolate(x, size=(3, 7)),
                     (1, 2, 4, 5)),
    "nearest_scale_float": (lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=1.7),
                            (1, 2, 3, 4)),
    "nearest_down": (lambda lib, x: lib.nn.functional.interpolate(x, size=3), (1, 2, 7)),
    "nearest_3d": (lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=(2, 1, 1.5)),
                   (1, 1, 2, 2, 2)),
    "nearest_exact": (lambda lib, x: lib.nn.functional.interpolate(x, size=(5, 3),
                                                                   mode="nearest-exact"),
                      (1, 2, 3, 4)),
    "recompute": (lambda lib, x: lib.nn.functional.interpolate(
        x, scale_factor=1.7, recompute_scale_factor=True), (1, 2, 3, 4)),
    "bilinear": (lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2,
                                                              mode="bilinear"), (1, 2, 3, 4)),
    "bilinear_size": (lambda lib, x: lib.nn.functional.interpolate(x, size=(5, 3),
                                                                   mode="bilinear"),
                      (2, 2, 3, 4)),
    "bilinear_aligned": (lambda lib, x: lib.nn.functional.interpolate(
        x, size=(5, 7), mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    "bilinear_aligned_one": (lambda lib, x: lib.nn.functional.interpolate(
        x, size=(1, 3), mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    "bilinear_scale_float": (lambda lib, x: lib.nn.functional.interpolate(
        x, scale_factor=(1.5, 0.7), mode="bilinear"), (1, 1, 4, 5)),
    "linear": (lambda lib, x: lib.nn.functional.interpolate(x, size=9, mode="linear"),
               (2, 3, 4)),
    "linear_aligned": (lambda lib, x: lib.nn.functional.interpolate(
        x, scale_factor=2.5, mode="linear", align_corners=True), (2, 3, 4)),
    "trilinear": (lambda lib, x: lib.nn.functional.interpolate(x, size=(3, 2, 4),
                                                               mode="trilinear"),
                  (1, 1, 2, 3, 2)),
}


@pytest.mark.parametrize("name", sorted(INTERPOLATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_interpolate(name, dtype, device):
    fn, shape = INTERPOLATIONS[name]
    check_op(fn, rand_array(shape, dtype), device=device, rtol=1e-5, atol=1e-6)


INTERPOLATE_ERRORS = {
    "both": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3), 3, 2),
    "neither": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3)),
    "bilinear_3d": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3), size=3,
                                                             mode="bilinear"),
    "linear_4d": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3, 3), size=3,
                                                           mode="linear"),
    "bad_mode": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3, 3), size=3,
                                                          mode="foo"),
    "aligned_nearest": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3), size=3,
                                                                 align_corners=True),
    "size_length": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3, 3),
                                                             size=(3, 3, 3)),
    "scale_length": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3, 3),
                                                              scale_factor=(2, 2, 2)),
    "input_2d": lambda lib: lib.nn.functional.interpolate(lib.ones(2, 3), size=3),
    "int_input": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 6).long(), size=3),
    "zero_size": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3, 3), size=0),
    "negative_scale": lambda lib: lib.nn.functional.interpolate(lib.ones(1, 2, 3),
                                                                scale_factor=-1.0),
    "recompute_with_size": lambda lib: lib.nn.functional.interpolate(
        lib.ones(1, 2, 3), size=3, recompute_scale_factor=True),
}


@pytest.mark.parametrize("name", sorted(INTERPOLATE_ERRORS))
def test_interpolate_errors(name, device):
    check_error(INTERPOLATE_ERRORS[name], device=device)


UPSAMPLES = {
    "nearest": lambda nn: nn.Upsample(scale_factor=2),
    "nearest_size": lambda nn: nn.Upsample(size=(3, 5)),
    "bilinear": lambda nn: nn.Upsample(scale_factor=(2, 1.5), mode="bilinear"),
    "bilinear_aligned": lambda nn: nn.Upsample(size=(3, 4), mode="bilinear",
                                               align_corners=True),
    "UpsamplingNearest2d": lambda nn: nn.UpsamplingNearest2d(scale_factor=2),
    "UpsamplingBilinear2d": lambda nn: nn.UpsamplingBilinear2d(size=(4, 5)),
}


@pytest.mark.parametrize("name", sorted(UPSAMPLES))
def test_upsample_module(name, device):
    make = UPSAMPLES[name]
    assert repr(make(gputensor.nn)) == repr(make(torch.nn))
    check_op(lambda lib, x: make(lib.nn)(x), rand_array((1, 2, 2, 3)), device=device)


UNFOLDS = {  # name: (fn(lib, x), input shape)
    "unfold": (lambda lib, x: lib.nn.functional.unfold(x, 2), (2, 3, 4, 5)),
    "unfold_all": (lambda lib, x: lib.nn.functional.unfold(x, (2, 3), dilation=(1, 2),
                                                           padding=1, stride=(2, 1)),
                   (1, 2, 4, 5)),
    "unfold_unbatched": (lambda lib, x: lib.nn.functional.unfold(x, 3, padding=1), (2, 3, 3)),
    "fold": (lambda lib, x: lib.nn.functional.fold(x, (4, 5), 2), (2, 8, 12)),
    "fold_all": (lambda lib, x: lib.nn.functional.fold(x, (4, 5), (2, 3), dilation=(1, 2),
                                                       padding=1, stride=(2, 1)), (1, 6, 9)),
    "fold_unbatched": (lambda lib, x: lib.nn.functional.fold(x, 3, 2, stride=1), (8, 4)),
    "fold_of_unfold": (lambda lib, x: lib.nn.functional.fold(
        lib.nn.functional.unfold(x, 2, stride=1), (3, 4), 2), (1, 2, 3, 4)),
    "pixel_shuffle": (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), (2, 8, 2, 3)),
    "pixel_shuffle_5d": (lambda lib, x: lib.pixel_shuffle(x, 2), (1, 2, 4, 2, 3)),
    "pixel_unshuffle": (lambda lib, x: lib.nn.functional.pixel_unshuffle(x, 2), (2, 1, 4, 6)),
    "pixel_unshuffle_3d": (lambda lib, x: lib.pixel_unshuffle(x, 3), (2, 3, 6)),
}


@pytest.mark.parametrize("name", sorted(UNFOLDS))
def test_unfold_fold_shuffle(name, device):
    fn, shape = UNFOLDS[name]
    check_op(fn, rand_array(shape), device=device)


BLOCK_ERRORS = {
    "unfold_too_big": lambda lib: lib.nn.functional.unfold(lib.ones(2, 3, 4, 5), 6),
    "unfold_zero_kernel": lambda lib: lib.nn.functional.unfold(lib.ones(2, 3, 4, 5), 0),
    "unfold_zero_stride": lambda lib: lib.nn.functional.unfold(lib.ones(2, 3, 4, 5), 2,
                                                               stride=0),
    "unfold_int": lambda lib: lib.nn.functional.unfold(lib.ones(2, 3, 4, 5).long(), 2),
    "fold_channels": lambda lib: lib.nn.functional.fold(lib.ones(2, 7, 12), (4, 5), 2),
    "fold_blocks": lambda lib: lib.nn.functional.fold(lib.ones(2, 8, 11), (4, 5), 2),
    "fold_rank": lambda lib: lib.nn.functional.fold(lib.ones(1, 8, 12, 1), (4, 5), 2),
    "shuffle_channels": lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(2, 3, 4, 5), 2),
    "shuffle_rank": lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(4, 2), 2),
    "shuffle_zero": lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(2, 4, 2, 2), 0),
    "unshuffle_width": lambda lib: lib.nn.functional.pixel_unshuffle(lib.ones(2, 3, 4, 5), 2),
    "unshuffle_height": lambda lib: lib.nn.functional.pixel_unshuffle(lib.ones(2, 3, 5, 4), 2),
    "unshuffle_rank": lambda lib: lib.nn.functional.pixel_unshuffle(lib.ones(4, 2), 2),
    "unflatten_sizes": lambda lib: lib.nn.Unflatten(1, (2, 2))(lib.ones(2, 3)),
    "unflatten_type": lambda lib: lib.nn.Unflatten(1, (2, 2.0)),
}


@pytest.mark.parametrize("name", sorted(BLOCK_ERRORS))
def test_block_errors(name, device):
    check_error(BLOCK_ERRORS[name], device=device)


SHAPE_MODULES = {
    "Unfold": (lambda nn: nn.Unfold(2), (1, 2, 3, 4)),
    "Unfold_args": (lambda nn: nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2)),
                    (1, 2, 3, 4)),
    "Fold": (lambda nn: nn.Fold((3, 4), 2), (1, 8, 6)),
    "Unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), (2, 6, 2)),
    "Unflatten_last": (lambda nn: nn.Unflatten(-1, (2, -1)), (2, 6)),
    "PixelShuffle": (lambda nn: nn.PixelShuffle(2), (1, 4, 2, 3)),
    "PixelUnshuffle": (lambda nn: nn.PixelUnshuffle(2), (1, 1, 4, 2)),
}


@pytest.mark.parametrize("name", sorted(SHAPE_MODULES))
def test_shape_module(name, device):
    make, shape = SHAPE_MODULES[name]
    assert repr(make(gputensor.nn)) == repr(make(torch.nn))
    check_op(lambda lib, x: make(lib.nn)(x), rand_array(shape), device=device)


DISTANCES = {  # fn(lib, a, b); a (2, 3, 4), b of the shape given
    "cosine": (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), (2, 3, 4)),
    "cosine_dim": (lambda lib, a, b: lib.cosine_similarity(a, b, dim=-1, eps=1e-6), (2, 3, 4)),
    "cosine_broadcast": (lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, 0),
                         (1, 3, 4)),
    "cosine_module": (lambda lib, a, b: lib.nn.CosineSimilarity(2)(a, b), (3, 1)),
    "pairwise": (lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b), (2, 3, 4)),
    "pairwise_p1_keepdim": (lambda lib, a, b: lib.pairwise_distance(a, b, 1.0, 1e-3, True),
                            (2, 3, 4)),
    "pairwise_broadcast": (lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, 3),
                           (4,)),
    "pairwise_module": (lambda lib, a, b: lib.nn.PairwiseDistance(keepdim=True)(a, b),
                        (2, 3, 4)),
    "pairwise_inf": (lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, float("inf")),
                     (2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(DISTANCES))
def test_distances(name, device):
    fn, shape = DISTANCES[name]
    check_op(fn, rand_array((2, 3, 4)), rand_array(shape), device=device, rtol=1e-5,
             atol=1e-6)


@pytest.mark.parametrize("args", [(), (1.0, 0), (3, -1), (2, 1, 1e-3)])
def test_normalize(args, device):
    check_op(lambda lib, x: lib.nn.functional.normalize(x, *args), rand_array((2, 3, 4)),
             device=device)


def test_normalize_zero_rows(device):
    check_op(lambda lib, x: lib.nn.functional.normalize(x * 0), rand_array((2, 3)),
             device=device)


def test_normalize_out(device):
    x = rand_array((2, 3))
    results = []
    for lib in (gputensor, torch):
        dev = device if lib is gputensor else "cpu"
        out = lib.empty(2, 3, device=dev)
        returned = lib.nn.functional.normalize(lib.tensor(x, device=dev), out=out)
        assert returned is out
        results.append(out.cpu().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


DISTANCE_ERRORS = {
    "cosine_shapes": lambda lib: lib.nn.functional.cosine_similarity(lib.ones(2, 3),
                                                                     lib.ones(2, 4)),
    "cosine_int": lambda lib: lib.nn.functional.cosine_similarity(lib.ones(3).long(),
                                                                  lib.ones(3).long(), 0),
    "pairwise_shapes": lambda lib: lib.nn.functional.pairwise_distance(lib.ones(2, 3),
                                                                       lib.ones(2, 4)),
    "normalize_int": lambda lib: lib.nn.functional.normalize(lib.ones(3).long(), dim=0),
}


@pytest.mark.parametrize("name", sorted(DISTANCE_ERRORS))
def test_distance_errors(name, device):
    check_error(DISTANCE_ERRORS[name], device=device)


def test_distance_module_reprs():
    for make in (lambda nn: nn.CosineSimilarity(), lambda nn: nn.CosineSimilarity(2, 1e-6),
                 lambda nn: nn.PairwiseDistance(), lambda nn: nn.PairwiseDistance(1.0, 1e-3, True)):
        assert repr(make(gputensor.nn)) == repr(make(torch.nn))
