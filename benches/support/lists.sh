# Sourced by targets.sh and instructions.sh: the dense benchmark data and the request lists
# of the performance targets, made once under SCRATCH with the bench kit's deterministic
# generators (BENCH). Needs SCRATCH and BENCH set.
W="$BENCH/gen_workload.py"
mkdir -p "$SCRATCH"

# The data file of N points (made when missing).
data_file() { # points
  local f="$SCRATCH/points_$1.geojson"
  [[ -s $f ]] || python3 "$BENCH/gen_data.py" "$1" "$f"
  echo "$f"
}

list() { # name kind template [args]: a list of 20,000 paths (made when missing)
  local f="$SCRATCH/urls_$1.txt"
  [[ -s $f ]] || python3 "$W" "$2" 20000 "$3" "${@:4}" >"$f"
  echo "$f"
}
ITEMS=$(list items bbox '/collections/points/items?bbox={minx},{miny},{maxx},{maxy}&limit=100')
ITEMS1000=$(list items1000 bbox '/collections/points/items?bbox={minx},{miny},{maxx},{maxy}&limit=1000')
RADIUS=$(list radius radius '/collections/points/radius?coords=POINT({lon}%20{lat})&within=50&within-units=km&limit=100')
NEAREST=$(list nearest radius '/collections/points/nearest?coords=POINT({lon}%20{lat})&limit=10')
TILES=$(list tiles tiles '/tiles/points/{z}/{x}/{y}')
Z4=$(list z4 tiles '/tiles/points/{z}/{x}/{y}' --zmin 4 --zmax 4)
