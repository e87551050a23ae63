/* Census test program: the same kfunc, weak and tested (guarded). */
#define SEC(n) __attribute__((section(n), used))
extern void bpf_rcu_read_lock(void) __attribute__((section(".ksyms"), weak));
extern void bpf_rcu_read_unlock(void) __attribute__((section(".ksyms"), weak));

SEC("xdp")
int census_b(void *ctx)
{
	if (bpf_rcu_read_lock && bpf_rcu_read_unlock) {
		bpf_rcu_read_lock();
		bpf_rcu_read_unlock();
	}
	return 2;
}
char LICENSE[] SEC("license") = "GPL";
