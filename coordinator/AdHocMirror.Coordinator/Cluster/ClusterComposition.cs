using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Matching;
using AdHocMirror.Coordinator.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AdHocMirror.Coordinator.Cluster;

/// <summary>Registers what several coordinators on one database need; a coordinator on SQLite is alone and gets the sole-coordinator defaults.</summary>
public static class ClusterComposition
{
    /// <summary>Call after the store is registered and after the start-up service that opens it: the cluster's services start once it is open.</summary>
    public static IServiceCollection AddCluster(this IServiceCollection services, CoordinatorOptions options)
    {
        services.AddSingleton(options.Cluster);
        if (!StoreSelection.IsShared(options.Store))
        {
            services.AddSingleton<ICoordinatorRole, SoleCoordinator>();
            return services;
        }

        services.AddSingleton(sp => (IClusterStore)sp.GetRequiredService<ICoordinatorStore>());
        services.AddSingleton<ClusterIdentity>();
        services.AddSingleton(sp => new CapacityShares(sp.GetRequiredService<ClusterIdentity>().Id, options.Cluster, options.Matching.LeaseTtl, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ICapacityShare>(sp => sp.GetRequiredService<CapacityShares>());
        services.AddSingleton<ClusterMembership>();
        services.AddSingleton<ICoordinatorRole>(sp => sp.GetRequiredService<ClusterMembership>());
        services.AddSingleton<SharedStateApplier>();
        services.AddSingleton<ChangeFeed>();
        services.AddSingleton<MirrorStatePublisher>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ClusterMembership>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ChangeFeed>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<MirrorStatePublisher>());
        return services;
    }
}
