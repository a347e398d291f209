using AdHocMirror.Coordinator.Hosting;
using AdHocMirror.Coordinator.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AdHocMirror.Coordinator.Cluster;

/// <summary>Registers what several coordinators on one database need; a coordinator on SQLite is alone and gets the sole-coordinator defaults.</summary>
public static class ClusterComposition
{
    public static IServiceCollection AddCluster(this IServiceCollection services, CoordinatorOptions options)
    {
        services.AddSingleton(options.Cluster);
        if (StoreSelection.IsShared(options.Store))
        {
            services.AddSingleton(sp => (IClusterStore)sp.GetRequiredService<ICoordinatorStore>());
        }

        return services;
    }
}
