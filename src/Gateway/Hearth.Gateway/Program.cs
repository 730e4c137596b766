using Hearth.Authorization.Configuration;
using Hearth.Gateway.Extensions;

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
