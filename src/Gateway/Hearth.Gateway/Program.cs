using Hearth.Authorization.Configuration;
using Hearth.Gateway.Extensions;

if (args is ["--healthcheck"])
{
    // For container health checks (the runtime image has no curl): GET /healthz on this host's PORT.
    return await ContainerHealthCheck.RunAsync();
}

WebApplication app;
try
{
    app = HearthGatewayApp.Build(args);
}
catch (HearthConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

await app.RunAsync();
return 0;
