"""What only tests and benchmarks use; no product package imports it.

| module | what |
|---|---|
| exchange.py | the local exchange as a subprocess (running_sim), a tiny raw client, login tokens |
| pipeline.py | ``bin/mm run`` started for real with its own ports and run directory (Pipeline) |
| layout_probe.pyx | what the C compiler made of shm/records.h (sizeof, offsets) for the layout test |
| glft_exact.py | the bounded-inventory GLFT ODE the closed form is tested against |
"""
