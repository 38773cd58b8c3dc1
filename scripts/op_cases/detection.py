"""TFLite_Detection_PostProcess, the custom operator that ends SSD
detectors: fast and regular non-maximum suppression over float32 box
encodings and class scores (TFLite Micro decodes no other type), with and
without a background class, detections_per_class > 1, and constant anchors
in groups of near-identical boxes, so that suppression drops some of every
group. goldens.py's seeded inputs are uniform floats, so no two scores tie.

TFLite Micro's fast suppression writes only the detections it makes and
leaves the outputs' other elements as they were; so the fast cases keep
more groups than max_detections and a low score threshold, and always make
max_detections detections."""
import numpy as np
from flatbuffers import flexbuffers

from tflite_builder import FLOAT32, GraphBuilder

UINT8 = 3

CODE = "TFLite_Detection_PostProcess"


def anchors(groups, per_group):
    """Anchors (y, x, h, w): `groups` centres on a grid, far apart, each
    with `per_group` anchors a little shifted and resized."""
    side = int(np.ceil(np.sqrt(groups)))
    out = []
    for g in range(groups):
        cy, cx = (g // side + 0.5) / side, (g % side + 0.5) / side
        size = 0.6 / side
        for k in range(per_group):
            out.append([cy + 0.01 * k, cx - 0.01 * k, size * (1 + 0.05 * k), size * (1 - 0.04 * k)])
    return np.array(out, dtype="<f4")


def detection(name, groups, per_group, classes, background, max_detections, regular,
              threshold, iou, per_class=None, stride=4, dtype=FLOAT32, quant=None, per_box=1):
    boxes = groups * per_group
    with_background = classes + background
    options = {
        "max_detections": max_detections,
        "max_classes_per_detection": per_box,
        "use_regular_nms": regular,
        "nms_score_threshold": threshold,
        "nms_iou_threshold": iou,
        "num_classes": classes,
        "y_scale": 10.0,
        "x_scale": 10.0,
        "h_scale": 5.0,
        "w_scale": 5.0,
    }
    if per_class is not None:
        options["detections_per_class"] = per_class
    g = GraphBuilder()
    s = g.subgraph()
    enc = s.tensor("box_encodings", [1, boxes, stride], dtype, quant)
    scores = s.tensor("class_predictions", [1, boxes, with_background], dtype, quant)
    anchor = s.tensor("anchors", [boxes, 4], FLOAT32, data=anchors(groups, per_group).tobytes())
    out_boxes = s.tensor("detection_boxes", [1, max_detections, 4], FLOAT32)
    out_classes = s.tensor("detection_classes", [1, max_detections], FLOAT32)
    out_scores = s.tensor("detection_scores", [1, max_detections], FLOAT32)
    count = s.tensor("num_detections", [1], FLOAT32)
    outputs = [out_boxes, out_classes, out_scores, count]
    s.op(0, [enc, scores, anchor], outputs, custom=CODE, custom_options=flexbuffers.Dumps(options))
    s.inputs, s.outputs = [enc, scores], outputs
    return name, g.finish()


def models():
    return [
        detection("detection_fast_f32", 4, 3, 3, 1, 3, False, -0.5, 0.4),
        detection("detection_fast_no_background_stride5_f32", 5, 2, 4, 0, 4, False, -0.6, 0.3,
                  stride=5),
        detection("detection_regular_f32", 4, 3, 3, 1, 5, True, 0.2, 0.4, per_class=2),
        detection("detection_regular_no_background_f32", 3, 3, 3, 0, 6, True, 0.0, 0.5,
                  per_class=3),
        # 24 boxes, all candidates: TFLite Micro's merge sort (20 or more).
        detection("detection_regular_24_boxes_f32", 8, 3, 2, 1, 10, True, -1.0, 0.35,
                  per_class=4),
        # SSD-like sizes: 150 boxes, 10 classes and a background.
        detection("detection_fast_150_boxes_f32", 50, 3, 10, 1, 10, False, -0.5, 0.5),
        detection("detection_regular_150_boxes_f32", 50, 3, 10, 1, 20, True, 0.3, 0.5,
                  per_class=5),
        # detections_per_class left to its default (100).
        detection("detection_regular_default_per_class_f32", 4, 2, 2, 1, 4, True, 0.1, 0.6),
    ]


def unsupported():
    """Cases vlab-micro refuses at load, as TFLite Micro cannot run them:
    uint8 inputs (it decodes float32 only) and fast suppression of two
    classes per box (it writes them out of place)."""
    return [
        detection("detection_uint8", 4, 3, 3, 1, 3, False, 0.1, 0.4, dtype=UINT8,
                  quant=(0.05, 128)),
        detection("detection_fast_2_classes_per_box_f32", 4, 3, 3, 1, 3, False, 0.1, 0.4,
                  per_box=2),
    ]
