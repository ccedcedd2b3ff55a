# plots.gp — the figures of docs/benchmarks.md from the harness's .dat files.
#   gnuplot -e "results='bench/results'; img='docs/img'" bench/plots.gp
# (bench/run.sh does this). NaN marks a value that was not measured.
if (!exists("results")) results = "bench/results"
if (!exists("img")) img = "docs/img"
tp = results."/throughput_plot.dat"
cc = results."/concurrency_plot.dat"

set terminal pngcairo size 1100,460 font "DejaVu Sans,10" noenhanced
set datafile missing "NaN"
set grid
set key top left
set logscale x 2
set xlabel "upload size (MiB)"

# throughput_plot.dat columns: size, then for https/pooled, https/new, http/pooled, http/new:
# livefour GB/s, curl GB/s, livefour CPU s/GB, curl CPU s/GB.
set output img."/throughput_vs_size.png"
set multiplot layout 1,2 title "Single-stream upload throughput, livefour vs curl (median of paired rounds)"
set ylabel "GB/s"
set yrange [0:*]
set title "HTTPS (TLS 1.3, AES-256-GCM)"
plot tp using 1:2 with linespoints lw 2 lc rgb "#1f77b4" title "livefour, pooled connection", \
     tp using 1:3 with linespoints lw 2 lc rgb "#d62728" title "curl, pooled connection", \
     tp using 1:6 with linespoints lw 1 dt 2 lc rgb "#1f77b4" title "livefour, new connection", \
     tp using 1:7 with linespoints lw 1 dt 2 lc rgb "#d62728" title "curl, new connection"
set title "plain HTTP"
plot tp using 1:10 with linespoints lw 2 lc rgb "#1f77b4" title "livefour, pooled connection", \
     tp using 1:11 with linespoints lw 2 lc rgb "#d62728" title "curl, pooled connection", \
     tp using 1:14 with linespoints lw 1 dt 2 lc rgb "#1f77b4" title "livefour, new connection", \
     tp using 1:15 with linespoints lw 1 dt 2 lc rgb "#d62728" title "curl, new connection"
unset multiplot

set output img."/cpu_per_gb.png"
set terminal pngcairo size 700,460 font "DejaVu Sans,10" noenhanced
set title "Client CPU (user+sys, whole process) per GB uploaded, pooled connection"
set ylabel "CPU seconds per GB"
set key top right
plot tp using 1:4 with linespoints lw 2 lc rgb "#1f77b4" title "livefour HTTPS", \
     tp using 1:5 with linespoints lw 2 lc rgb "#d62728" title "curl HTTPS", \
     tp using 1:12 with linespoints lw 1 dt 2 lc rgb "#1f77b4" title "livefour HTTP", \
     tp using 1:13 with linespoints lw 1 dt 2 lc rgb "#d62728" title "curl HTTP"

# concurrency_plot.dat columns: in-flight, then for 1 and 2 threads: p50 ms, p99 ms, GB/s, RSS KiB/in-flight.
set output img."/latency_vs_concurrency.png"
set terminal pngcairo size 1100,460 font "DejaVu Sans,10" noenhanced
set multiplot layout 1,2 title "livefour: concurrent 3 MiB HTTPS uploads on a warm pool"
set xlabel "uploads in flight"
set logscale x 10
set logscale y 10
set yrange [*:*]
set key top left
set title "latency per upload"
set ylabel "ms"
plot cc using 1:2 with linespoints lw 2 lc rgb "#1f77b4" title "p50, 1 thread", \
     cc using 1:3 with linespoints lw 2 dt 2 lc rgb "#1f77b4" title "p99, 1 thread", \
     cc using 1:6 with linespoints lw 2 lc rgb "#2ca02c" title "p50, 2 threads", \
     cc using 1:7 with linespoints lw 2 dt 2 lc rgb "#2ca02c" title "p99, 2 threads"
unset logscale y
set yrange [0:*]
set title "aggregate throughput"
set ylabel "GB/s"
set key bottom left
plot cc using 1:4 with linespoints lw 2 lc rgb "#1f77b4" title "1 thread", \
     cc using 1:8 with linespoints lw 2 lc rgb "#2ca02c" title "2 threads"
unset multiplot
