using AdHocMirror.Coordinator.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace AdHocMirror.Coordinator.Observability;

/// <summary>/metrics (Prometheus text format 0.0.4) and /healthz, on the admin and metrics listeners.</summary>
public static class HealthRoutes
{
    public static Action<IEndpointRouteBuilder> Map(CoordinatorMetrics metrics, ICoordinatorStore store) => routes =>
    {
        // GrpcServer ends its pipeline with a terminal 404 before the endpoint middleware that
        // MapGet relies on, so mapped routes never run; answer as plain middleware instead.
        if (routes is IApplicationBuilder app)
        {
            app.Use(next => context => context.Request.Path.Value switch
            {
                "/metrics" when HttpMethods.IsGet(context.Request.Method) => MetricsAsync(context, metrics),
                "/healthz" when HttpMethods.IsGet(context.Request.Method) => HealthAsync(context, store),
                _ => next(context),
            });
        }
        else
        {
            routes.MapGet("/metrics", (HttpContext context) => MetricsAsync(context, metrics));
            routes.MapGet("/healthz", (HttpContext context) => HealthAsync(context, store));
        }
    };

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
