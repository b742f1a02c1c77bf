#!/bin/bash
# Seed 002's script (the operator's hand-written one that lvsd realserver replaces), verbatim below.
# test/host/realserver/seed-effect.test.ts runs it as the reference for what `up` must achieve.
# Filename: lvs_realserver.sh
# Usage: sh lvs_realserver.sh 172.18.14.100 start
#
# echo "sh /usr/local/bin/lvs_realserver.sh 172.18.14.100 start" >> /etc/rc.local
#

VIP1=$1

case "$2" in
start)
    echo " start LVS of REALServer"
    /sbin/ifconfig lo:0 $VIP1 broadcast $VIP1 netmask 255.255.255.255 up
    echo "1" >/proc/sys/net/ipv4/conf/lo/arp_ignore
    echo "2" >/proc/sys/net/ipv4/conf/lo/arp_announce
    echo "1" >/proc/sys/net/ipv4/conf/all/arp_ignore
    echo "2" >/proc/sys/net/ipv4/conf/all/arp_announce
    ;;
stop)
    /sbin/ifconfig lo:0 down
    echo "close LVS Directorserver"
    echo "0" >/proc/sys/net/ipv4/conf/lo/arp_ignore
    echo "0" >/proc/sys/net/ipv4/conf/lo/arp_announce
    echo "0" >/proc/sys/net/ipv4/conf/all/arp_ignore
    echo "0" >/proc/sys/net/ipv4/conf/all/arp_announce
    ;;
*)
    echo "Usage: $0 {start|stop}"
    exit 1
    ;;
esac

exit 0
