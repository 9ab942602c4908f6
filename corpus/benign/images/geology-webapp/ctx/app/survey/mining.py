"""Mining leases and ore-body estimates for the survey area.

Tonnage = area x thickness x density; grade-tonnage curves per lease. Used
by the planning team to compare open-pit and underground mining options.
"""
from .stratum import cumulative_thickness

DENSITY_T_PER_M3 = {"coal": 1.35, "limestone": 2.6, "sandstone": 2.3}


def tonnage(area_m2, strata, lithology):
    thickness = cumulative_thickness(strata, lithology)
    return area_m2 * thickness * DENSITY_T_PER_M3.get(lithology, 2.5)


def strip_ratio(overburden_m, seam_m):
    """Open-pit mining strip ratio: metres of overburden per metre of seam."""
    if seam_m <= 0:
        raise ValueError("seam thickness must be positive")
    return overburden_m / seam_m


def lease_summary(lease):
    t = tonnage(lease["area_m2"], lease["strata"], lease["target"])
    return {"lease": lease["id"], "target": lease["target"], "tonnes": round(t),
            "method": "open-pit" if strip_ratio(lease["overburden_m"], 1) < 12 else "underground"}
