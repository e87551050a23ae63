/* Census test program: a helper and a kfunc, unguarded. */
#define SEC(n) __attribute__((section(n), used))
static unsigned long long (*get_pid_tgid)(void) = (void *)14;
extern void bpf_rcu_read_lock(void) __attribute__((section(".ksyms")));
extern void bpf_rcu_read_unlock(void) __attribute__((section(".ksyms")));

SEC("tc")
int census_a(void *ctx)
{
	bpf_rcu_read_lock();
	int r = (int)get_pid_tgid();
	bpf_rcu_read_unlock();
	return r & 1;
}
char LICENSE[] SEC("license") = "GPL";
