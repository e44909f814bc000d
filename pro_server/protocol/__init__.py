"""Study protocols as data, and the pure schedule, window, status and amendment computations.

No Flask, no database, no clock: every function takes the time it needs as an argument.
"""
