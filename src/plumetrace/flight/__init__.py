"""Flight operations under sovereignty: airspace zones, authorization, planning, audit.

Pure geometry kernels (shapely, pyproj); files are read in :mod:`plumetrace.io`.
"""
