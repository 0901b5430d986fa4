# SPDX-License-Identifier: BSD-3-Clause
# Mpps by frame size, vhostd against rte_vhost, one panel per scenario.
# Called by bench/run.py with: out (PNG path), dir (one data file per
# scenario-ring: size a_med a_min a_max b_med b_min b_max), aname, bname,
# scens (the scenarios that have data, blank-separated) and nscen.
# Error bars are the min-max over rounds; points are medians.
set terminal pngcairo size 500*nscen,480 font ",10" noenhanced
set output out
set multiplot layout 1,nscen title "Mpps by frame size (median of rounds, bars = min-max), mrg_rxbuf on, 1 queue pair"
set logscale x 2
set xtics ("64" 64, "512" 512, "1518" 1518, "9000" 9000)
set xrange [48:12000]
set yrange [0:*]
set grid
set key top right
set xlabel "frame size (bytes)"
set ylabel "Mpps"
do for [scen in scens] {
	set title scen
	fs = dir."/".scen."-split.dat"
	fp = dir."/".scen."-packed.dat"
	plot fs u ($1*0.97):2:3:4 w yerrorlines lc rgb "#1f77b4" t aname." split", \
	     fs u ($1*1.03):5:6:7 w yerrorlines lc rgb "#d62728" t bname." split", \
	     fp u ($1*0.97):2:3:4 w yerrorlines dt 2 lc rgb "#17becf" t aname." packed", \
	     fp u ($1*1.03):5:6:7 w yerrorlines dt 2 lc rgb "#ff7f0e" t bname." packed"
}
unset multiplot
