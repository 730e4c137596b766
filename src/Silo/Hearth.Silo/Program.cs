using Hearth.Authorization.Configuration;
using Hearth.Grains;

// A standalone Hearth silo. In this version it clusters on localhost (HEARTH_SILO_PORT,
// HEARTH_SILO_GATEWAY_PORT); the gateway's embedded mode hosts the same silo in-process.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
HearthSettings settings;
try
{
    settings = HearthSettings.Load(key => builder.Configuration[key] ?? builder.Configuration[$"Hearth:{key}"]);
}
catch (HearthConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

builder.UseOrleans(silo => silo.AddHearthSilo(settings));
await builder.Build().RunAsync();
return 0;
