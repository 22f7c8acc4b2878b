"""Physical constants and unit conversions, with their units, in one place.

Column enhancements are converted between ppm·m and kg/m² for an ideal gas at the
standard conditions below (101325 Pa, 288.15 K = 15 °C), the convention of the IME
literature (e.g. Varon et al. 2018, AMT 11, 5673). Change neither without changing the
documentation of every output that depends on them.
"""

from __future__ import annotations

__all__ = [
    "BACKGROUND_FLOOR_PPM",
    "GAS_CONSTANT_J_MOL_K",
    "MOLAR_MASS_KG_MOL",
    "SECONDS_PER_HOUR",
    "STANDARD_PRESSURE_PA",
    "STANDARD_TEMPERATURE_K",
    "kg_m2_per_ppm_m",
    "kg_m3_per_ppm",
    "molar_mass_kg_mol",
]

GAS_CONSTANT_J_MOL_K = 8.314462618
"""Molar gas constant, J mol⁻¹ K⁻¹ (CODATA 2018, exact)."""

STANDARD_PRESSURE_PA = 101325.0
"""Pressure used for ppm·m <-> kg/m², Pa."""

STANDARD_TEMPERATURE_K = 288.15
"""Temperature used for ppm·m <-> kg/m², K."""

SECONDS_PER_HOUR = 3600.0

MOLAR_MASS_KG_MOL: dict[str, float] = {
    "ch4": 0.01604246,
    "co2": 0.0440095,
    "nh3": 0.01703052,
    "h2s": 0.0340809,
    "n2o": 0.0440128,
}
"""Molar masses of gases plumetrace knows by name, kg mol⁻¹."""


BACKGROUND_FLOOR_PPM: dict[str, float] = {"ch4": 1.75}
"""Lowest plausible clean-air background (ppm) of gases with a known climatology.

CH4: the NOAA global surface mean was 1.85 ppm in 2017 and has risen since; southern
hemisphere marine air, the cleanest, stays above ~1.75 ppm. Used only as the lower bound
of the background prior when the readings carry no background.
"""


def kg_m2_per_ppm_m(
    gas: str = "ch4",
    *,
    pressure_pa: float = STANDARD_PRESSURE_PA,
    temperature_k: float = STANDARD_TEMPERATURE_K,
) -> float:
    """Mass column (kg/m²) of one ppm·m of ``gas`` at the given pressure and temperature.

    One ppm·m is a 1 m path of the gas at 10⁻⁶ mole fraction: ``1e-6 · P / (R T) · M``.
    For CH4 at 101325 Pa and 288.15 K this is 6.784e-7 kg/m².
    """
    # a 1 m path at 1 ppm holds the mass of 1 m³ at 1 ppm
    return kg_m3_per_ppm(
        molar_mass_kg_mol(gas), pressure_pa=pressure_pa, temperature_k=temperature_k
    )


def molar_mass_kg_mol(gas: str = "ch4", molar_mass: float | None = None) -> float:
    """Molar mass of ``gas`` in kg/mol, or ``molar_mass`` (kg/mol) when given.

    Raises
    ------
    InvalidParameterError
        If the gas is unknown and no molar mass is given, or the molar mass is not
        a positive finite number.
    """
    from plumetrace.errors import InvalidParameterError

    if molar_mass is not None:
        if not (molar_mass > 0.0 and molar_mass < 1.0):
            raise InvalidParameterError(
                f"molar mass must be in kg/mol, between 0 and 1 (got {molar_mass})"
            )
        return float(molar_mass)
    key = gas.lower()
    if key not in MOLAR_MASS_KG_MOL:
        raise InvalidParameterError(
            f"unknown gas {gas!r}; known: {', '.join(sorted(MOLAR_MASS_KG_MOL))} "
            "(give any other gas by its molar mass)"
        )
    return MOLAR_MASS_KG_MOL[key]


def kg_m3_per_ppm(
    molar_mass: float,
    *,
    pressure_pa: float = STANDARD_PRESSURE_PA,
    temperature_k: float = STANDARD_TEMPERATURE_K,
) -> float:
    """Mass density (kg/m³) of one ppm of a gas of ``molar_mass`` (kg/mol) in air.

    ``1e-6 · P / (R T) · M``; for CH4 at 101325 Pa and 288.15 K this is 6.784e-7 kg/m³.
    """
    return 1e-6 * pressure_pa / (GAS_CONSTANT_J_MOL_K * temperature_k) * molar_mass
