"""The district report's words in Spanish and English: a leader forwards it to a municipality, a planner to a
ministry, and each reads one language. Keys are the same in both; a missing key fails the unit tests."""

from __future__ import annotations

from typing import Literal

from api import continuity

Language = Literal["es", "en"]

WORDS: dict[Language, dict[str, str]] = {
    "en": {
        "title": "District report",
        "period": "Period",
        "period_value": "{start} to {end} (Lima time)",
        "alerts_opened": "Alerts opened",
        "alerts_value": "{alerts} ({critical} critical)",
        "sensors": "Sensors",
        "sensors_value": "{sensors} ({silent} silent all period)",
        "tiles_assessed": "Blocks assessed",
        "alerts_per_day": "Alerts opened per day",
        "alerts_axis": "alerts",
        "no_alerts": "no alerts in the period",
        "uptime_axis": "% of minutes with a reading",
        "uptime_title": "Sensor uptime (least heard from first)",
        "housing_title": "Housing score of {n} assessed blocks (0 sound, 1 precarious)",
        "housing_axis": "blocks",
        "priorities_title": "Where to act first (priority index)",
        "priorities": "Where to act first",
        "block": "Block",
        "index": "Index",
        "why": "Why",
        "critical": "critical",
        "warning": "warning",
        "info": "info",
        "continuity": "Service continuity",
        "service": "Service",
        "power": "Power",
        "water": "Water",
        "counted": "Interruptions counted",
        "total_hours": "Hours in all",
        "longest": "Longest (h)",
        "compensable": "Compensable",
        "announced": "Programmed, announced in time (not counted)",
        "compensable_list": "Power cuts over 4 hours (compensable)",
        "none": "None.",
        "supply": "Hours of water a day (mean over the sensors that reported)",
        "day": "Day",
        "hours_water": "Hours with water",
        "hours_observed": "Hours observed",
        "sensor": "Sensor",
        "started": "Began",
        "hours": "Hours",
        "semester": "Semester {label}: indicators per supply point",
        "tolerance": "Tolerance",
        "tolerance_value": "N ≤ {n} interruptions and D ≤ {h:g} h per supply point",
        "not_set": "not set by an operator",
        "over": "Supply points past the tolerance",
        "semester_axis": "hours without service this semester (D)",
        "semester_figure": "{service}: hours of interruption per supply point, semester {label}",
        "rule_power": "Power: interruptions of {minutes:g} minutes or more with the mains below {limit:g} V;"
        " over {hours:g} hours is compensable (D.L. 25844, art. 86).",
        "rule_water": "Water: outages of {minutes:g} minutes or more with the pressure below {limit:g} bar.",
        "rule_cuts": "Programmed cuts an operator recorded as announced 48 hours ahead are listed, not counted.",
        "gaps": "Where to install the next ten sensors: precarious housing (0.6 or more) no sensor watches",
        "land_use": "Land use",
        "housing": "Housing",
        "built_up": "Built up",
        "nearest": "Nearest sensor (m)",
    },
    "es": {
        "title": "Informe del distrito",
        "period": "Periodo",
        "period_value": "del {start} al {end} (hora de Lima)",
        "alerts_opened": "Alertas abiertas",
        "alerts_value": "{alerts} ({critical} urgentes)",
        "sensors": "Sensores",
        "sensors_value": "{sensors} ({silent} sin reportar en todo el periodo)",
        "tiles_assessed": "Manzanas evaluadas",
        "alerts_per_day": "Alertas abiertas por día",
        "alerts_axis": "alertas",
        "no_alerts": "sin alertas en el periodo",
        "uptime_axis": "% de minutos con lectura",
        "uptime_title": "Sensores que reportan (los menos oídos primero)",
        "housing_title": "Puntaje de vivienda de {n} manzanas evaluadas (0 sólida, 1 precaria)",
        "housing_axis": "manzanas",
        "priorities_title": "Dónde actuar primero (índice de prioridad)",
        "priorities": "Dónde actuar primero",
        "block": "Manzana",
        "index": "Índice",
        "why": "Por qué",
        "critical": "urgente",
        "warning": "aviso",
        "info": "info",
        "continuity": "Continuidad del servicio",
        "service": "Servicio",
        "power": "Luz",
        "water": "Agua",
        "counted": "Cortes contados",
        "total_hours": "Horas en total",
        "longest": "Más largo (h)",
        "compensable": "Compensables",
        "announced": "Programados y anunciados a tiempo (no se cuentan)",
        "compensable_list": "Cortes de luz de más de 4 horas (compensables)",
        "none": "Ninguno.",
        "supply": "Horas de agua al día (media de los sensores que reportaron)",
        "day": "Día",
        "hours_water": "Horas con agua",
        "hours_observed": "Horas observadas",
        "sensor": "Sensor",
        "started": "Inicio",
        "hours": "Horas",
        "semester": "Semestre {label}: indicadores por punto de suministro",
        "tolerance": "Tolerancia",
        "tolerance_value": "N ≤ {n} cortes y D ≤ {h:g} h por punto de suministro",
        "not_set": "sin fijar por un operador",
        "over": "Puntos de suministro fuera de tolerancia",
        "semester_axis": "horas sin servicio en el semestre (D)",
        "semester_figure": "{service}: horas de corte por punto de suministro, semestre {label}",
        "rule_power": "Luz: cortes de {minutes:g} minutos o más con la red por debajo de {limit:g} V;"
        " más de {hours:g} horas es compensable (D.L. 25844, art. 86).",
        "rule_water": "Agua: cortes de {minutes:g} minutos o más con la presión por debajo de {limit:g} bar.",
        "rule_cuts": "Los cortes programados que un operador registró como anunciados con 48 horas de"
        " anticipación se listan pero no se cuentan.",
        "gaps": "Dónde instalar los próximos diez sensores: vivienda precaria (0,6 o más) que ningún sensor vigila",
        "land_use": "Uso",
        "housing": "Vivienda",
        "built_up": "Construido",
        "nearest": "Sensor más cercano (m)",
    },
}


def rules(language: Language) -> list[str]:
    """How each service is counted, said from the standards themselves so the words cannot drift from them."""
    words = WORDS[language]
    power = continuity.STANDARDS[continuity.Service.POWER]
    water = continuity.STANDARDS[continuity.Service.WATER]
    compensable = power.compensable_after.total_seconds() / 3600 if power.compensable_after else 0.0
    return [
        words["rule_power"].format(
            minutes=power.counted_from.total_seconds() / 60, limit=power.off_below, hours=compensable
        ),
        words["rule_water"].format(minutes=water.counted_from.total_seconds() / 60, limit=water.off_below),
        words["rule_cuts"],
    ]
