using Yarp.ReverseProxy.Configuration;

// dotnet PassThrough.dll <destination base with trailing slash> <listen url>
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "fhir", Match = new RouteMatch { Path = "{**catch-all}" } }],
    [new ClusterConfig { ClusterId = "fhir", Destinations = new Dictionary<string, DestinationConfig> { ["fhir"] = new() { Address = args[0] } } }]);
var app = builder.Build();
app.MapReverseProxy();
app.Run(args[1]);
