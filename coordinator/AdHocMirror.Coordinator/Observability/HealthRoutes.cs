using AdHocMirror.Coordinator.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AdHocMirror.Coordinator.Observability;

/// <summary>/metrics (Prometheus text format 0.0.4) and /healthz, on the admin and metrics listeners.</summary>
public static class HealthRoutes
{
    public static void Map(IEndpointRouteBuilder routes, CoordinatorMetrics metrics, ICoordinatorStore store)
    {
        routes.MapGet("/metrics", (HttpContext context) => MetricsAsync(context, metrics));
        routes.MapGet("/healthz", (HttpContext context) => HealthAsync(context, store));
    }

    private static Task MetricsAsync(HttpContext context, CoordinatorMetrics metrics)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        return context.Response.WriteAsync(metrics.ToPrometheusText(), context.RequestAborted);
    }

    private static async Task HealthAsync(HttpContext context, ICoordinatorStore store)
    {
        try
        {
            // A read through the store proves the database answers.
            await store.ListAuditAsync(1, 0, context.RequestAborted);
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("ok\n", context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await context.Response.WriteAsync("store unavailable\n", context.RequestAborted);
        }
    }
}
