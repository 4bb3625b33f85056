/* The EAL as the unit tests start it: no hugepages, no PCI, no shared
 * config, and a file prefix of each test's own (anncd-test-TAG-PID) so that
 * tests running side by side never share a runtime directory.
 */
#ifndef ANNCD_TESTS_EAL_RIG_H
#define ANNCD_TESTS_EAL_RIG_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

/* Starts the EAL with mem MB, lcores given to lflag ("-l" or "--lcores")
 * and, when vdev is not NULL, that one --vdev argument.  0, or -1 when the
 * EAL cannot start (the test then exits 77).
 */
static inline int
eal_rig_init(char *argv0, const char *tag, const char *mem,
	     const char *lflag, const char *lcores, const char *vdev)
{
	/* The EAL may keep pointers into its arguments: none on the stack. */
	static char prefix[64], m[16], lf[16], lc[32], vd[256];
	char *eal[] = { argv0, "--no-huge", "-m", m, "--no-shconf",
			"--no-pci", "--no-telemetry", lf, lc, prefix, vd,
			NULL };
	int n = (int)RTE_DIM(eal) - 1;

	snprintf(prefix, sizeof(prefix), "--file-prefix=anncd-test-%s-%d",
		 tag, (int)getpid());
	snprintf(m, sizeof(m), "%s", mem);
	snprintf(lf, sizeof(lf), "%s", lflag);
	snprintf(lc, sizeof(lc), "%s", lcores);
	if (vdev != NULL)
		snprintf(vd, sizeof(vd), "%s", vdev);
	else
		n--;
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* Stops the EAL and removes the empty runtime directory it leaves behind:
 * otherwise one would stay per run.
 */
static inline void
eal_rig_done(void)
{
	char run_dir[256];

	snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	rmdir(run_dir);
}

#endif
