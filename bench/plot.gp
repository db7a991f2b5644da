# SPDX-License-Identifier: GPL-2.0
# gnuplot -e "dir='build/bench'" bench/plot.gp
# Reads the .dat files bench/report.py wrote into dir; writes
# dir/scaling.png (idle scaling and harvest, per backend) and
# dir/ratios.png (epollmod/native for every measure, with the targets).
# Points are medians, bars the spread (min..max) over the runs.

set terminal pngcairo size 1400,560 font "DejaVu Sans,11"
set output dir.'/scaling.png'
set multiplot layout 1,2 title "epollmod vs native epoll under QEMU/TCG: compare within a backend pair only (no KVM)"

set title "Case 2: idle scaling, 1 ready among N watched"
set logscale x
set xlabel "N (watched eventfds)"
set xrange [5:200000]
set ylabel "ns per wait (TCG)"
set yrange [0:*]
set key top left
set grid
plot dir.'/idle.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 title "native", \
     ''              using 1:5:6:7 with yerrorlines lw 2 pt 5 title "epollmod"

set title "Case 1: harvest, K ready level-triggered events"
set xlabel "K (events per wait)"
set ylabel "ns per event (TCG)"
set xrange [0.7:100]
plot dir.'/harvest.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 title "native", \
     ''                 using 1:5:6:7 with yerrorlines lw 2 pt 5 title "epollmod"
unset multiplot

set output dir.'/ratios.png'
set terminal pngcairo size 1900,760 font "DejaVu Sans,10"
reset
set title "epollmod (ring, io_uring where named) / native (cost: above 1 = slower or bigger); median and min..max of per-run ratios"
set style fill solid 0.5 border -1
set boxwidth 0.6
set yrange [0:*]
set ylabel "ratio"
set xtics rotate by 30 right nomirror
set grid ytics
set bmargin 16
set lmargin 18
set xrange [-0.6:*]
set key top left
plot dir.'/ratios.dat' using 1:3:xtic(2) with boxes lc rgb "#4477aa" title "median", \
     ''                using 1:3:4:5 with yerrorbars lc rgb "black" pt -1 title "min..max", \
     1.10 with lines dt 2 lw 2 lc rgb "red" title "target 1.10 (cases 1, 3, 4, 7)"
