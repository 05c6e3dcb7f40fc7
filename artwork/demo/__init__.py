"""The synthetic demo world: titles, rendered stills with known tags, viewers, responses."""
