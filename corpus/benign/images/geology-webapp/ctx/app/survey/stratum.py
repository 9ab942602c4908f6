"""Stratigraphy: a stratum is one layer of sedimentary rock or soil with
internally consistent characteristics that distinguish it from the layers
above and below it. A borehole log is an ordered list of strata."""
from dataclasses import dataclass, field

LITHOLOGIES = ("sandstone", "siltstone", "shale", "limestone", "dolomite",
               "coal", "conglomerate", "clay", "till", "topsoil")


@dataclass
class Stratum:
    top_m: float
    base_m: float
    lithology: str
    colour: str = ""
    fossils: list = field(default_factory=list)

    def __post_init__(self):
        if self.base_m <= self.top_m:
            raise ValueError("stratum base must lie below its top")
        if self.lithology not in LITHOLOGIES:
            raise ValueError("unknown lithology %r" % self.lithology)

    @property
    def thickness_m(self):
        return self.base_m - self.top_m


def check_log(strata):
    """A borehole log must be contiguous: each stratum starts where the
    one above ends (law of superposition: older strata lie below)."""
    strata = sorted(strata, key=lambda s: s.top_m)
    for upper, lower in zip(strata, strata[1:]):
        if abs(upper.base_m - lower.top_m) > 0.01:
            raise ValueError("gap or overlap at %.2f m" % upper.base_m)
    return strata


def cumulative_thickness(strata, lithology):
    return sum(s.thickness_m for s in strata if s.lithology == lithology)
