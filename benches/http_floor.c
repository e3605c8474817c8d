// The floor under an HTTP probe on this machine (issue 18): a bare prober in C, N kept
// connections to the lab's nginx, a round every INTERVAL ms (every request written, then epoll
// until every answer, head and Content-Length body, is in), nothing parsed, kept or shown.
// `scripts/bench poll-cost` builds it with gcc and runs it beside the console's fifty checks:
// what is left of a probe's cost under the console's is the kernel's (TCP on 127.0.0.1, the
// server woken, the wake-ups). Usage: http_floor PORT N INTERVAL_MS ROUNDS; prints
// `probes=P cpu_per_probe_us=C wakeups_per_probe=W` for the rounds after the fifth.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
static long long cpu_ns(){ FILE*f=fopen("/proc/thread-self/schedstat","r"); long long a=0; fscanf(f,"%lld",&a); fclose(f); return a; }
static long vol(){ FILE*f=fopen("/proc/thread-self/status","r"); char l[256]; long v=0; while(fgets(l,256,f)) if(!strncmp(l,"voluntary_ctxt_switches:",24)) v=atol(l+24); fclose(f); return v; }
int main(int argc,char**argv){
  int port=atoi(argv[1]), n=atoi(argv[2]), interval_ms=atoi(argv[3]), rounds=atoi(argv[4]);
  int *fd=calloc(n,sizeof(int)); char req[256][256]; int rl[256]; int got[256];
  int ep=epoll_create1(0);
  for(int i=0;i<n;i++){
    fd[i]=socket(AF_INET,SOCK_STREAM|SOCK_NONBLOCK,0);
    struct sockaddr_in a={.sin_family=AF_INET,.sin_port=htons(port)}; inet_pton(AF_INET,"127.0.0.1",&a.sin_addr);
    connect(fd[i],(void*)&a,sizeof a); int one=1; setsockopt(fd[i],IPPROTO_TCP,TCP_NODELAY,&one,sizeof one);
    rl[i]=snprintf(req[i],256,"GET /ep/bench-poll/healthz?bench=c-%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: cprobe\r\n\r\n",i,port);
    struct epoll_event e={.events=EPOLLIN|EPOLLET,.data.u32=i}; epoll_ctl(ep,EPOLL_CTL_ADD,fd[i],&e);
  }
  usleep(200000);
  long long c0=0; long v0=0; long probes=0; char buf[4096];
  struct timespec next; clock_gettime(CLOCK_MONOTONIC,&next);
  for(int r=0;r<rounds;r++){
    if(r==5){ c0=cpu_ns(); v0=vol(); probes=0; }
    next.tv_nsec+=interval_ms*1000000L; while(next.tv_nsec>=1000000000L){next.tv_nsec-=1000000000L; next.tv_sec++;}
    clock_nanosleep(CLOCK_MONOTONIC,TIMER_ABSTIME,&next,0);
    for(int i=0;i<n;i++){ got[i]=0; send(fd[i],req[i],rl[i],MSG_NOSIGNAL); }
    int left=n;
    while(left>0){
      struct epoll_event ev[64]; int k=epoll_wait(ep,ev,64,1000); if(k<=0){fprintf(stderr,"timeout\n"); return 1;}
      for(int j=0;j<k;j++){ int i=ev[j].data.u32; int m=recv(fd[i],buf,sizeof buf,0); if(m>0){ got[i]+=m; char*cl=strstr(buf,"Content-Length: "); char*end=strstr(buf,"\r\n\r\n"); if(cl&&end&& got[i]>=(end+4-buf)+atoi(cl+16)){ left--; probes++; } } }
    }
  }
  long long c1=cpu_ns(); long v1=vol();
  printf("probes=%ld cpu_per_probe_us=%.1f wakeups_per_probe=%.2f\n",probes,(c1-c0)/1000.0/probes,(double)(v1-v0)/probes);
}
