# Copyright 2026 Ad Hoc Mirror authors
# Distributed under the terms of the GNU General Public License v2

EAPI=8

# Framework-dependent build (the dotnet-pkg eclass's way, as every .NET package in ::gentoo):
# the programs run on the system .NET runtime from virtual/dotnet-sdk (dev-dotnet/dotnet-sdk-bin),
# so runtime security fixes arrive with the runtime's own updates instead of being frozen into
# three self-contained copies (and the install is ~70 MiB smaller).
DOTNET_PKG_COMPAT=10.0

# Every NuGet package the three programs restore (transitively, from obj/project.assets.json):
# fetched as distfiles and restored offline from them, so the build needs no network and no
# RESTRICT="network-sandbox". Regenerate on each release (gdmt restore, or the assets files).
# crossgen2 (for the build's arch) because ahm-sync is published ReadyToRun (its start and verification run
# compiled ahead instead of being JIT-compiled beside rsync); its version is the one the SDK picks.
NUGETS="
google.protobuf@3.36.2
grpc.aspnetcore.healthchecks@2.85.0
grpc.aspnetcore.server.clientfactory@2.85.0
grpc.aspnetcore.server.reflection@2.85.0
grpc.aspnetcore.server@2.85.0
grpc.aspnetcore@2.85.0
grpc.core.api@2.85.0
grpc.healthcheck@2.85.0
grpc.net.client@2.85.0
grpc.net.clientfactory@2.85.0
microsoft.netcore.app.crossgen2.linux-arm64@10.0.12
microsoft.netcore.app.crossgen2.linux-x64@10.0.12
grpc.net.common@2.85.0
grpc.reflection@2.85.0
grpc.tools@2.85.0
maxmind.db@5.2.0
microsoft.data.sqlite.core@10.0.14
microsoft.data.sqlite@10.0.14
microsoft.extensions.configuration.abstractions@10.0.14
microsoft.extensions.configuration.binder@10.0.14
microsoft.extensions.configuration.commandline@10.0.14
microsoft.extensions.configuration.environmentvariables@10.0.14
microsoft.extensions.configuration.fileextensions@10.0.14
microsoft.extensions.configuration.json@10.0.14
microsoft.extensions.configuration.usersecrets@10.0.14
microsoft.extensions.configuration@10.0.14
microsoft.extensions.dependencyinjection.abstractions@10.0.14
microsoft.extensions.dependencyinjection@10.0.14
microsoft.extensions.diagnostics.abstractions@10.0.14
microsoft.extensions.diagnostics@10.0.14
microsoft.extensions.fileproviders.abstractions@10.0.14
microsoft.extensions.fileproviders.physical@10.0.14
microsoft.extensions.filesystemglobbing@10.0.14
microsoft.extensions.hosting.abstractions@10.0.14
microsoft.extensions.hosting@10.0.14
microsoft.extensions.http@8.0.1
microsoft.extensions.logging.abstractions@10.0.14
microsoft.extensions.logging.configuration@10.0.14
microsoft.extensions.logging.console@10.0.14
microsoft.extensions.logging.debug@10.0.14
microsoft.extensions.logging.eventlog@10.0.14
microsoft.extensions.logging.eventsource@10.0.14
microsoft.extensions.logging@10.0.14
microsoft.extensions.objectpool@7.0.0
microsoft.extensions.options.configurationextensions@10.0.14
microsoft.extensions.options@10.0.14
microsoft.extensions.primitives@10.0.14
npgsql@10.0.3
prometheus-net@8.2.1
sourcegear.sqlite3@3.50.4.5
spectre.console@0.49.1
sqlitepclraw.bundle_e_sqlite3@3.0.3
sqlitepclraw.config.e_sqlite3@3.0.3
sqlitepclraw.core@3.0.3
sqlitepclraw.provider.e_sqlite3@3.0.3
system.commandline@2.0.11
system.diagnostics.eventlog@10.0.14
"

# portage's sync module (repos.conf sync-type = ahm) is installed for every Python portage may run on.
PYTHON_COMPAT=( python3_{11..13} )

inherit dotnet-pkg python-r1 systemd

DESCRIPTION="Volunteer, verified, nearby mirrors of the Gentoo tree (BitTorrent-style rsync/git)"
HOMEPAGE="https://github.com/adhocmirror/adhocmirror"
SRC_URI="
	https://github.com/adhocmirror/adhocmirror/archive/refs/tags/v${PV}.tar.gz -> ${P}.tar.gz
	${NUGET_URIS}
"

# GPL-2 for our code; the NuGet packages linked in: MIT (Microsoft.Extensions.*, System.CommandLine,
# Spectre.Console, SQLitePCLRaw), BSD (Google.Protobuf), Apache-2.0 (Grpc.Tools, build only),
# public-domain (SQLite in SourceGear.sqlite3).
LICENSE="GPL-2 MIT BSD Apache-2.0 public-domain"
SLOT="0"
KEYWORDS="~amd64 ~arm64"
IUSE="ahm coordinator"
REQUIRED_USE="${PYTHON_REQUIRED_USE}"

# The test suite starts real rsync/git daemons, gpg and servers on loopback, and some tests need
# root to check privilege dropping; upstream CI runs it, not src_test in the sandbox.
RESTRICT="test"

# ahm-sync (always installed) verifies trees with gpg against Gentoo's release keys and syncs
# with rsync (which Portage already needs) or git; util-linux's setsid, ionice and flock run the
# detached work on the spare tree after a sync (flock takes the repository lock for its renames).
RDEPEND="
	${DOTNET_PKG_RDEPS}
	${PYTHON_DEPS}
	sys-apps/portage[${PYTHON_USEDEP}]
	sys-apps/util-linux
	app-crypt/gnupg
	sec-keys/openpgp-keys-gentoo-release
	net-misc/rsync
	ahm? (
		acct-group/ahm
		acct-user/ahm
		net-misc/rsync
		dev-vcs/git
	)
	coordinator? (
		acct-group/ahm-coordinator
		acct-user/ahm-coordinator
	)
"
BDEPEND="
	${DOTNET_PKG_BDEPS}
"

DOTNET_PKG_PROJECTS=( "${S}/sync-client/AdHocMirror.Sync/AdHocMirror.Sync.csproj" )

pkg_setup() {
	dotnet-pkg_pkg_setup

	use ahm && DOTNET_PKG_PROJECTS+=( "${S}/ahm-daemon/AdHocMirror.Daemon/AdHocMirror.Daemon.csproj" )
	use coordinator && DOTNET_PKG_PROJECTS+=( "${S}/coordinator/AdHocMirror.Coordinator/AdHocMirror.Coordinator.csproj" )
}

src_prepare() {
	# The solution holds tests and benchmarks we neither build nor need nugets for.
	rm AdHocMirror.sln || die
	dotnet-pkg_src_prepare
}

src_install() {
	# All three programs share one output directory (and its common assemblies).
	dotnet-pkg-base_install "/usr/share/${PN}"
	dotnet-pkg-base_dolauncher "/usr/share/${PN}/ahm-sync" ahm-sync

	if use ahm ; then
		insinto /usr/share/ahm
		doins openrc/daemon.conf.example
		dotnet-pkg-base_dolauncher "/usr/share/${PN}/ahm-daemon" ahm-daemon
		newinitd openrc/init.d/ahm-daemon ahm-daemon
		newconfd openrc/conf.d/ahm-daemon ahm-daemon
		systemd_dounit openrc/systemd/ahm-daemon.service
		insinto /etc/logrotate.d
		newins openrc/logrotate/ahm-daemon ahm-daemon

		insinto /etc/ahm
		newins openrc/daemon.conf.example daemon.conf

		keepdir /var/lib/ahm-daemon /var/cache/ahm-daemon /var/log/ahm-daemon
		fowners ahm:ahm /var/lib/ahm-daemon /var/cache/ahm-daemon /var/log/ahm-daemon
		fperms 0750 /var/lib/ahm-daemon /var/log/ahm-daemon
	fi

	if use coordinator ; then
		dotnet-pkg-base_dolauncher "/usr/share/${PN}/ahm-coordinator" ahm-coordinator
		newinitd openrc/init.d/ahm-coordinator ahm-coordinator
		newconfd openrc/conf.d/ahm-coordinator ahm-coordinator
		systemd_dounit openrc/systemd/ahm-coordinator.service
		insinto /etc/logrotate.d
		newins openrc/logrotate/ahm-coordinator ahm-coordinator

		keepdir /var/lib/ahm-coordinator /var/log/ahm-coordinator
		fowners ahm-coordinator:ahm-coordinator /var/lib/ahm-coordinator /var/log/ahm-coordinator
		fperms 0750 /var/lib/ahm-coordinator /var/log/ahm-coordinator
	fi

	# The sync module goes where portage loads sync modules from: portage/sync/modules/NAME.
	python_foreach_impl adhocmirror_install_portage_module

	einstalldocs
}

adhocmirror_install_portage_module() {
	python_moduleinto portage/sync/modules
	python_domodule sync-client/portage/ahm
}

pkg_postinst() {
	elog "To sync through the swarm with emerge --sync and emaint sync, change the repository's"
	elog "entry in /etc/portage/repos.conf (e.g. gentoo.conf): sync-type = ahm, sync-uri = the"
	elog "coordinator's URL, and the old sync-uri moves to sync-ahm-official (the fallback):"
	elog "    sync-type = ahm"
	elog "    sync-uri = https://COORDINATOR:7470"
	elog "    sync-ahm-official = rsync://rsync.gentoo.org/gentoo-portage"
	elog "See the README, \"Use it from portage\". ahm-sync alone reads the same entry."
	if use ahm ; then
		elog "To volunteer a mirror: set at least 'coordinator' and 'public_host' in"
		elog "/etc/ahm/daemon.conf, forward TCP ports 7472 (ping), 8873 (rsync) and 9418 (git),"
		elog "then: rc-update add ahm-daemon default && rc-service ahm-daemon start"
		elog "See what it does with: rc-service ahm-daemon status_detail"
	fi
	if use coordinator ; then
		elog "The coordinator keeps its database and admin token in /var/lib/ahm-coordinator;"
		elog "configure it in /etc/conf.d/ahm-coordinator (GeoIP database, TLS)."
	fi
}
