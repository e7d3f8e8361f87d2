#!/usr/bin/env python3
"""Synthesise test videos from real photos, with their ground truth beside them.

No registry package ships a real video with faces, so scenarios (testdata/scenarios/*.json)
describe shots made of photos panned, zoomed, cut, scaled, degraded and compressed;
this script renders each to <out>/<name>.mp4 and writes <out>/<name>.truth.json: who is
on screen when. It also assembles the galleries of testdata/galleries.json under
<out>/galleries/<gallery>/<Person Name>/.

Usage: synth.py PHOTOS_DIR OUT_DIR TESTDATA_DIR [SCENARIO ...]
Without SCENARIO, every scenario but those named bench_only_* (which only `make bench`
needs). A video is re-rendered only when its scenario, this script or the photos change.
"""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys

import cv2
import numpy as np
from PIL import Image, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
DETECTOR = None


def faces_in(photo, models_dir):
    """The faces in a photo, found with OpenCV's YuNet: rows of box, five landmarks and score."""
    global DETECTOR
    if DETECTOR is None:
        DETECTOR = cv2.FaceDetectorYN.create(os.path.join(models_dir, "yunet.onnx"), "", (320, 320), 0.8, 0.3, 5000)
    bgr = cv2.cvtColor(np.asarray(photo), cv2.COLOR_RGB2BGR)
    DETECTOR.setInputSize((bgr.shape[1], bgr.shape[0]))
    _, faces = DETECTOR.detect(bgr)
    if faces is None:
        sys.exit("synth: no face found in a photo used with face_height or morph")
    return faces


def largest_face(photo, models_dir):
    """(height, centre x, centre y) of the largest face in a photo."""
    faces = faces_in(photo, models_dir)
    x, y, w, h = faces[faces[:, 3].argmax(), :4]
    return float(h), float(x + w / 2), float(y + h / 2)


def morph(photo, spec, photos_dir, models_dir):
    """A look-alike: the photo's largest face blended with another photo's face ("face":
    its index from the left), warped onto it by the five landmarks. With "weight" 0.6 of
    the other face it is nobody in the gallery, yet resembles the photo's person more than
    strangers do (SFace: cosine 0.5-0.6 to another photo of them)."""
    other = Image.open(os.path.join(photos_dir, spec["photo"])).convert("RGB")
    target = faces_in(photo, models_dir)
    target = target[target[:, 3].argmax()]
    source = sorted(faces_in(other, models_dir), key=lambda f: f[0])[spec.get("face", 0)]
    matrix, _ = cv2.estimateAffinePartial2D(source[4:14].reshape(5, 2), target[4:14].reshape(5, 2))
    warped = cv2.warpAffine(np.asarray(other), matrix, photo.size)
    x, y, w, h = target[:4]
    mask = np.zeros((photo.size[1], photo.size[0]), np.float32)
    cv2.ellipse(mask, (int(x + w / 2), int(y + h / 2)), (int(w * 0.55), int(h * 0.65)), 0, 0, 360, 1, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), w * 0.08)[..., None] * spec["weight"]
    blended = np.asarray(photo) * (1 - mask) + warped * mask
    return Image.fromarray(blended.round().astype(np.uint8))


def over_shot(value, progress):
    """A number, or [from, to] moving linearly from one to the other over the shot."""
    if isinstance(value, list):
        return value[0] + (value[1] - value[0]) * progress
    return value


class Layer:
    """One photo (or an occluding bar) in a shot: where it is, how big, how it moves and
    how it is degraded.

    "morph" makes the photo's face a look-alike of its person (see morph()). With
    face_height, the photo is scaled so its largest face is that tall and "center"
    (fractions of the frame, moving to "to" over the shot) places that face; with
    height, the photo is that tall and "center" places its middle. "blur" softens the
    photo itself; "frame_blur" (Gaussian radius) and "motion_blur" (horizontal smear), in
    frame pixels, soften it as shown and may change over the shot ([from, to]). A "bar"
    ([width, height] as fractions of the frame, in "color") passes in front of what the
    layers before it drew.
    """

    def __init__(self, spec, photos_dir, models_dir):
        self.spec = spec
        self.cache = {}
        if "bar" in spec:
            return
        photo = Image.open(os.path.join(photos_dir, spec["photo"])).convert("RGB")
        if "morph" in spec:
            photo = morph(photo, spec["morph"], photos_dir, models_dir)
        if "crop" in spec:
            x0, y0, x1, y1 = spec["crop"]
            w, h = photo.size
            photo = photo.crop((int(x0 * w), int(y0 * h), int(x1 * w), int(y1 * h)))
        if spec.get("gray"):
            photo = photo.convert("L").convert("RGB")
        if "brightness" in spec:
            photo = Image.eval(photo, lambda v: int(v * spec["brightness"]))
        if "blur" in spec:
            photo = photo.filter(ImageFilter.GaussianBlur(spec["blur"]))
        # The point of the photo placed at "center": its largest face, or its middle.
        if "face_height" in spec:
            height, fx, fy = largest_face(photo, models_dir)
            self.base_scale = spec["face_height"] / height
            self.anchor = (fx / photo.size[0], fy / photo.size[1])
        else:
            self.base_scale = spec["height"] / photo.size[1]
            self.anchor = (0.5, 0.5)
        self.photo = photo

    def render(self, canvas, progress):
        s = self.spec
        cx0, cy0 = s.get("center", [0.5, 0.5])
        cx1, cy1 = s.get("to", [cx0, cy0])
        cx = over_shot([cx0, cx1], progress) * canvas.size[0]
        cy = over_shot([cy0, cy1], progress) * canvas.size[1]
        if "bar" in s:
            w, h = s["bar"][0] * canvas.size[0], s["bar"][1] * canvas.size[1]
            canvas.paste(tuple(s.get("color", [20, 20, 20])), (round(cx - w / 2), round(cy - h / 2), round(cx + w / 2), round(cy + h / 2)))
            return
        zoom = over_shot([1, s.get("zoom", 1)], progress)
        scale = self.base_scale * zoom
        size = (max(1, round(self.photo.size[0] * scale)), max(1, round(self.photo.size[1] * scale)))
        if size not in self.cache:
            self.cache = {size: self.photo.resize(size, Image.BILINEAR)}
        image = self.cache[size]
        radius = over_shot(s.get("frame_blur", 0), progress)
        if radius > 0:
            image = image.filter(ImageFilter.GaussianBlur(radius))
        smear = round(over_shot(s.get("motion_blur", 0), progress))
        if smear > 1:
            image = Image.fromarray(cv2.filter2D(np.asarray(image), -1, np.full((1, smear), 1.0 / smear)))
        canvas.paste(image, (round(cx - size[0] * self.anchor[0]), round(cy - size[1] * self.anchor[1])))


def truth(scenario):
    """Named people's merged [start, end) intervals on screen, and shots with unnamed faces."""
    spans = {}
    strangers = []
    for shot in scenario["shots"]:
        for layer in shot.get("layers", []):
            for name in layer.get("people", []):
                spans.setdefault(name, []).append([shot["start"], shot["end"]])
            if layer.get("strangers"):
                strangers.append({"start": shot["start"], "end": shot["end"], "faces": layer["strangers"]})
    merged = {}
    for name, intervals in spans.items():
        intervals.sort()
        out = [intervals[0]]
        for start, end in intervals[1:]:
            if start <= out[-1][1]:
                out[-1][1] = max(out[-1][1], end)
            else:
                out.append([start, end])
        merged[name] = out
    return {"people": merged, "strangers": strangers}


def render(scenario, photos_dir, models_dir, path):
    width, height = scenario["size"]
    fps = scenario.get("fps", 25)
    duration = max(shot["end"] for shot in scenario["shots"])
    background = tuple(scenario.get("background", [48, 48, 48]))
    shots = [(shot, [Layer(l, photos_dir, models_dir) for l in shot.get("layers", [])]) for shot in scenario["shots"]]
    tmp = path + ".tmp.mp4"
    encoder = subprocess.Popen(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
         "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", scenario.get("preset", "veryfast"),
         "-crf", str(scenario.get("crf", 23)), "-g", str(scenario.get("gop", 250)), "-pix_fmt", "yuv420p",
         "-movflags", "+faststart", tmp],
        stdin=subprocess.PIPE)
    for index in range(round(duration * fps)):
        t = index / fps
        canvas = Image.new("RGB", (width, height), background)
        for shot, layers in shots:
            if shot["start"] <= t < shot["end"]:
                progress = (t - shot["start"]) / (shot["end"] - shot["start"])
                for layer in layers:
                    layer.render(canvas, progress)
        encoder.stdin.write(canvas.tobytes())
    encoder.stdin.close()
    if encoder.wait() != 0:
        sys.exit(f"synth: ffmpeg failed for {path}")
    os.replace(tmp, path)


def derive(scenario, out, path):
    """Renders a scenario made from another one's video ("from"): the frames stored turned by
    an FFmpeg filter ("stored_filter"), and a display matrix ("display_matrix": its a b c d)
    saying how players turn them back, as phones store portrait videos."""
    base = os.path.join(out, scenario["from"] + ".mp4")
    tmp = path + ".tmp.mp4"
    codec = ["-vf", scenario["stored_filter"], "-c:v", "libx264", "-preset", "veryfast", "-crf", "18"] \
        if "stored_filter" in scenario else ["-c", "copy"]
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", base, *codec, "-movflags", "+faststart", tmp],
                   check=True)
    set_display_matrix(tmp, scenario["display_matrix"])
    os.replace(tmp, path)


def set_display_matrix(path, abcd):
    """Writes the 2x2 part of the video track's tkhd matrix (16.16 fixed point) in place.
    FFmpeg 5.1's muxer writes only quarter turns, and only from a deprecated tag."""
    with open(path, "r+b") as f:
        data = bytearray(f.read())

        def boxes(start, end):
            while start + 8 <= end:
                size, kind = struct.unpack(">I4s", data[start:start + 8])
                if size < 8:
                    sys.exit(f"synth: {path}: unexpected box size {size}")
                yield kind, start + 8, start + size
                start += size

        for kind, body, end in boxes(0, len(data)):
            if kind == b"moov":
                traks = [(b, e) for k, b, e in boxes(body, end) if k == b"trak"]
                break
        else:
            sys.exit(f"synth: {path} has no moov box")
        if len(traks) != 1:
            sys.exit(f"synth: {path} has {len(traks)} tracks, expected the video alone")
        tkhd = next(b for k, b, _ in boxes(*traks[0]) if k == b"tkhd")
        # version, flags, times, track id and duration (longer in version 1), reserved, layer...
        matrix = tkhd + (4 + 32 + 16 if data[tkhd] == 1 else 4 + 20 + 16)
        a, b, c, d = (round(v * 65536) for v in abcd)
        data[matrix:matrix + 36] = struct.pack(">9i", a, b, 0, c, d, 0, 0, 0, 1 << 30)
        f.seek(0)
        f.write(data)


def digest(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode())
    return h.hexdigest()


def build_galleries(testdata, photos_dir, out):
    with open(os.path.join(testdata, "galleries.json")) as f:
        galleries = json.load(f)
    root = os.path.join(out, "galleries")
    shutil.rmtree(root, ignore_errors=True)
    for gallery, people in galleries.items():
        for person, photos in people.items():
            folder = os.path.join(root, gallery, person)
            os.makedirs(folder)
            for photo in photos:
                shutil.copy(os.path.join(photos_dir, photo), folder)


def main():
    photos_dir, out, testdata = sys.argv[1:4]
    models_dir = os.path.join(os.path.dirname(os.path.abspath(photos_dir)), "models")
    names = sys.argv[4:] or sorted(f[:-5] for f in os.listdir(os.path.join(testdata, "scenarios"))
                                   if f.endswith(".json") and not f.startswith("bench_only_"))
    os.makedirs(out, exist_ok=True)
    build_galleries(testdata, photos_dir, out)
    with open(__file__, "rb") as f:
        script = f.read()
    with open(os.path.join(HERE, "photos.sha256"), "rb") as f:
        photos = f.read()

    def read(name):
        with open(os.path.join(testdata, "scenarios", name + ".json"), "rb") as f:
            raw = f.read()
        return raw, json.loads(raw)

    # A scenario made from another one's video needs that video first.
    bases = [read(name)[1].get("from") for name in names]
    names = list(dict.fromkeys([base for base in bases if base] + names))
    names.sort(key=lambda name: "from" in read(name)[1])
    for name in names:
        raw, scenario = read(name)
        # Whose shots (and so whose ground truth) the video shows.
        shown = scenario
        if "from" in scenario:
            raw_from, shown = read(scenario["from"])
            raw += raw_from
        video = os.path.join(out, name + ".mp4")
        stamp = os.path.join(out, name + ".stamp")
        key = digest(raw, script, photos)
        if os.path.exists(video) and os.path.exists(stamp) and open(stamp).read() == key:
            continue
        print(f"synth: rendering {name}", file=sys.stderr)
        if "from" in scenario:
            derive(scenario, out, video)
        else:
            render(scenario, photos_dir, models_dir, video)
        duration = max(shot["end"] for shot in shown["shots"])
        with open(os.path.join(out, name + ".truth.json"), "w") as f:
            json.dump({"video": name + ".mp4", "duration": duration, **truth(shown)}, f, indent=2)
        with open(stamp, "w") as f:
            f.write(key)


if __name__ == "__main__":
    main()
