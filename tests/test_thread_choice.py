"""The choice between a loop's threaded and one-thread builds (kernels/cpu/thread_choice.py),
on a fake clock: the build faster over its latest calls runs, the other one is tried again
after an interval that grows while it keeps losing; forcing a build; results do not depend
on the build chosen (the CPU row, gelu and power loops)."""

from __future__ import annotations

import numpy as np
import pytest

from gputensor.kernels.cpu import activations, elementwise
from gputensor.kernels.cpu import rows as cpu_rows
from gputensor.kernels.cpu import thread_choice as choice_module
from helpers import rand_array


class FakeClock:
    """``perf_counter`` advanced by the builds: each adds its current cost."""

    def __init__(self):
        self.now = 0.0
        self.cost = {"serial": 1.0, "parallel": 0.5}
        self.calls = []

    def perf_counter(self):
        return self.now

    def build(self, name):
        def run(value):
            self.calls.append(name)
            self.now += self.cost[name]
            return value
        return run


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(choice_module.time, "perf_counter", fake.perf_counter)
    return fake


def run_calls(choice, clock, count, size=1000):
    for _ in range(count):
        assert choice.run("loop", size, clock.build("serial"), clock.build("parallel"), 7) == 7


def test_the_faster_build_runs_and_the_other_is_tried_again(clock):
    choice = choice_module.ThreadChoice()
    run_calls(choice, clock, 2)
    assert clock.calls == ["parallel", "serial"]  # each build timed once
    clock.calls.clear()
    run_calls(choice, clock, choice_module.FIRST_INTERVAL)
    assert clock.calls.count("serial") == 1 and clock.calls[-1] == "serial"
    assert set(clock.calls[:-1]) == {"parallel"}


def test_a_losing_build_is_tried_later_and_later(clock, monkeypatch):
    monkeypatch.setattr(choice_module, "FIRST_WAIT", 10.0)  # in the fake clock's seconds
    monkeypatch.setattr(choice_module, "LONGEST_WAIT", 40.0)
    choice = choice_module.ThreadChoice()
    run_calls(choice, clock, 2)
    clock.calls.clear()
    run_calls(choice, clock, 15 + 41 + 81 + 81 + 1)
    tries = [i for i, name in enumerate(clock.calls) if name == "serial"]
    # after FIRST_INTERVAL calls; then once the doubled wait (20, 40, 40 s) has passed, at
    # 0.5 s a threaded call
    assert tries == [15, 15 + 41, 15 + 41 + 81, 15 + 41 + 81 + 81]


def test_a_winning_try_switches(clock):
    choice = choice_module.ThreadChoice()
    run_calls(choice, clock, 2)
    clock.cost["serial"] = 0.1  # the other build became the faster one
    clock.calls.clear()
    run_calls(choice, clock, choice_module.FIRST_INTERVAL + 3)
    assert clock.calls[choice_module.FIRST_INTERVAL - 1:] == ["serial"] * 4


def test_one_slow_call_does_not_switch_a_few_do(clock):
    choice = choice_module.ThreadChoice()
    run_calls(choice, clock, 2)
    clock.calls.clear()
    clock.cost["parallel"] = 30.0  # the threads no longer get cores
    run_calls(choice, clock, 1)
    clock.cost["parallel"] = 0.5
    run_calls(choice, clock, 1)
    assert clock.calls == ["parallel"] * 2  # a hiccup
    clock.cost["parallel"] = 30.0
    run_calls(choice, clock, choice_module.KEPT)
    clock.calls.clear()
    run_calls(choice, clock, 5)
    assert clock.calls == ["serial"] * 5


def test_sizes_are_timed_apart(clock):
    choice = choice_module.ThreadChoice()
    run_calls(choice, clock, 2, size=1000)
    clock.calls.clear()
    run_calls(choice, clock, 1, size=1 << 20)  # a new size class starts over
    assert clock.calls == ["parallel"]


def test_force(clock, monkeypatch):
    choice = choice_module.ThreadChoice()
    for forced, name in ((True, "parallel"), (False, "serial")):
        choice.force = forced
        clock.calls.clear()
        run_calls(choice, clock, 3)
        assert clock.calls == [name] * 3


def loop_results():
    """Every CPU loop that goes through the choice, on inputs above their thresholds."""
    rng = np.random.default_rng(3)
    x = rand_array((300, 230), "float32", rng=rng)
    g = rand_array((300, 230), "float32", rng=rng)
    w = rand_array((230,), "float32", rng=rng)
    y, mean, rstd = cpu_rows.layer_norm_forward(x, w, w, 1e-5)
    soft = cpu_rows.softmax_forward(x, None, False)
    flat = x.reshape(-1)
    return [y, mean, rstd, *cpu_rows.layer_norm_backward(g, x, mean, rstd, w, (True,) * 3),
            soft, cpu_rows.softmax_backward(g, soft, None, False),
            activations.gelu_forward(flat, False), activations.gelu_backward(flat, flat, True),
            elementwise.power(flat, 3.0), elementwise.power(flat, -0.5)]


def test_either_build_gives_the_same_bits(monkeypatch):
    assert 300 * 230 >= max(cpu_rows.SERIAL_BELOW, activations.PARALLEL_FROM,
                            elementwise.POWER_PARALLEL_FROM)
    shared = choice_module.thread_choice
    monkeypatch.setattr(shared, "force", False)
    serial = loop_results()
    monkeypatch.setattr(shared, "force", True)
    threaded = loop_results()
    for one, other in zip(serial, threaded):
        np.testing.assert_array_equal(one.view(np.uint32), other.view(np.uint32))
