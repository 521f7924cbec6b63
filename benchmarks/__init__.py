"""Side-by-side timings of gputensor and torch."""
