"""Reads cameo's exports back with the tools editors and players use, and prints what
they read as JSON: WebVTT through webvtt-py, CSV through Python's csv, the EDL through
OpenTimelineIO's CMX3600 adapter.

    read_exports.py VTT CSV EDL RATE
"""

import csv
import json
import re
import sys

import opentimelineio as otio
import webvtt


def read_vtt(path):
    return [{"start": seconds(c.start),
             "end": seconds(c.end), "text": c.text, "id": c.identifier} for c in webvtt.read(path)]


def seconds(clock):
    h, m, s = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def read_edl(path, rate):
    timeline = otio.adapters.read_from_file(path, adapter_name="cmx_3600", rate=rate)
    clips = list(timeline.find_clips())
    markers = [{"start": m.marked_range.start_time.to_seconds(), "colour": m.color, "name": m.name}
               for clip in clips for m in clip.markers]
    # The adapter reads locators only in hh:mm:ss:ff: drop-frame ones (hh:mm:ss;ff, as
    # OpenTimelineIO itself writes them) are read here with its own timecode parser.
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\* LOC: (\d\d:\d\d:\d\d;\d\d)\s+(\w+)\s+(.*)", line.strip())
        if m:
            start = otio.opentime.from_timecode(m.group(1), rate).to_seconds()
            markers.append({"start": start, "colour": m.group(2).upper(), "name": m.group(3)})
    return {
        "title": timeline.name,
        "clips": [{"name": c.name, "start": c.source_range.start_time.to_seconds(),
                   "duration": c.source_range.duration.to_seconds()} for c in clips],
        "markers": markers,
    }


if __name__ == "__main__":
    vtt, csv_path, edl, rate = sys.argv[1:5]
    json.dump({"vtt": read_vtt(vtt), "csv": read_csv(csv_path), "edl": read_edl(edl, float(rate))}, sys.stdout)
