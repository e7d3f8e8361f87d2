#!/usr/bin/env python3
"""Prints a synthesised video's ground truth (<name>.truth.json) for people to compare by eye."""
import json
import sys

truth = json.load(open(sys.argv[1]))
for name, spans in truth["people"].items():
    print(f"  {name}: " + ", ".join(f"{start:g}-{end:g} s" for start, end in spans))
for shot in truth["strangers"]:
    print(f"  {shot['faces']} unnamed faces: {shot['start']:g}-{shot['end']:g} s")
