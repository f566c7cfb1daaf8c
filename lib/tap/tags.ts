/**
 * The APPLICATION tag numbers of TAP 3.12 (GSMA TD.57, module TAP-0312, IMPLICIT TAGS) and of the RAP 1.5
 * groups RoamLedger reads and writes (GSMA TD.32). Every TAP item is an APPLICATION-class tag, unique in the
 * module, so a tag number alone names the item. A tag that is not in this table is "unknown": the decoder
 * skips it and counts it (a later TAP release, or a sender's own extension).
 */

/** Name=number pairs, as the TD.57 module defines them (written out once, parsed at load). */
const TAP_312_TAGS = `
TransferBatch=1 Notification=2 CallEventDetailList=3 BatchControlInfo=4 AccountingInfo=5 NetworkInfo=6
MessageDescriptionInfoList=8 MobileOriginatedCall=9 MobileTerminatedCall=10 SupplServiceEvent=11 ServiceCentreUsage=12
GprsCall=14 AuditControlInfo=15 LocalTimeStamp=16 ContentTransaction=17 BasicService=36 BasicServiceCodeList=37
BasicServiceUsedList=38 BasicServiceUsed=39 BearerServiceCode=40 CallOriginator=41 CalledPlace=42 CallEventDetailsCount=43
CallEventStartTimeStamp=44 CallReference=45 CalledRegion=46 CamelServiceKey=55 CamelServiceLevel=56 CamelServiceUsed=57
CauseForTerm=58 CellId=59 Charge=62 ChargeDetail=63 ChargeDetailList=64 ChargeableUnits=65 ChargedItem=66
ChargedPartyStatus=67 ChargedUnits=68 ChargeInformation=69 ChargeInformationList=70 ChargeType=71 ChargingId=72
ChargingPoint=73 ChargingTimeStamp=74 ClirIndicator=75 CompletionTimeStamp=76 CseInformation=79 CurrencyConversionList=80
DefaultCallHandlingIndicator=87 DepositTimeStamp=88 Destination=89 DestinationNetwork=90 DiscountCode=91 DiscountRate=92
Discounting=94 DiscountingList=95 DiscountInformation=96 DistanceChargeBandCode=98 EarliestCallTimeStamp=101 Esn=103
ExchangeRate=104 ExchangeRateCode=105 CurrencyConversion=106 FileAvailableTimeStamp=107 FileCreationTimeStamp=108
FileSequenceNumber=109 FileTypeIndicator=110 Fnur=111 GeographicalLocation=113 GprsBasicCallInformation=114
GprsChargeableSubscriber=115 GprsDestination=116 GprsLocationInformation=117 GprsNetworkLocation=118 GprsServiceUsed=121
HomeBid=122 HomeLocationInformation=123 Imei=128 Imsi=129 LatestCallTimeStamp=133 LocalCurrency=135 LocationArea=136
LocationInformation=138 MessageDescriptionCode=141 MessageDescription=142 MessageDescriptionInformation=143
MessageStatus=144 MessageType=145 Min=146 MoBasicCallInformation=147 Msisdn=152 MtBasicCallInformation=153
NetworkLocation=156 NumberOfDecimalPlaces=159 OperatorSpecInfoList=162 OperatorSpecInformation=163
OriginatingNetwork=164 PacketDataProtocolAddress=165 PartialTypeIndicator=166 PdpAddress=167 PlmnId=169 PriorityCode=170
RapFileSequenceNumber=181 Recipient=182 RecEntityInformation=183 RecEntityCode=184 RecEntityCodeList=185
RecEntityType=186 RecEntityInfoList=188 ReleaseVersionNumber=189 ScuBasicInformation=191 ScuChargeType=192
ScuTimeStamps=193 ServingNetwork=195 Sender=196 ServingBid=198 SimChargeableSubscriber=199 SimToolkitIndicator=200
SpecificationVersionNumber=201 SsParameters=204 SupplServiceUsed=206 SupplServiceActionCode=208 SupplServiceCode=209
TapCurrency=210 TaxationList=211 TaxCode=212 TaxInformation=213 TaxInformationList=214 TaxRate=215 Taxation=216
TaxType=217 TeleServiceCode=218 ThirdPartyInformation=219 TotalCallEventDuration=223 TotalDiscountValue=225
TotalTaxValue=226 TransferCutOffTimeStamp=227 TransparencyIndicator=228 UtcTimeOffset=231 UtcTimeOffsetCode=232
UtcTimeOffsetInfo=233 UtcTimeOffsetInfoList=234 TapDecimalPlaces=244 NetworkInitPDPContext=245 DataVolumeIncoming=250
DataVolumeOutgoing=251 Mdn=253 MinChargeableSubscriber=254 CallTypeLevel2=255 CallTypeLevel3=256 CallTypeGroup=258
CallTypeLevel1=259 PDPContextStartTimestamp=260 AccessPointNameNI=261 AccessPointNameOI=262 DialledDigits=279
UserProtocolIndicator=280 ObjectType=281 ContentServiceUsedList=285 GsmChargeableSubscriber=286
ChargedPartyIdentifier=287 HomeIdentifier=288 LocationIdentifier=289 EquipmentId=290 ContentProviderIdType=291
ContentProviderIdentifier=292 IspIdType=293 IspIdentifier=294 NetworkIdentifier=295 LocationService=297
TrackingCustomerInformation=298 TrackingCustomerIdList=299 OrderPlacedTimeStamp=300 RequestedDeliveryTimeStamp=301
ActualDeliveryTimeStamp=302 TransactionStatus=303 ContentTransactionBasicInfo=304 ChargedPartyIdType=305
ChargedPartyIdentification=309 ChargedPartyIdList=310 HomeIdType=311 ChargedPartyHomeIdentification=313
ChargedPartyHomeIdList=314 LocationIdType=315 ChargedPartyLocation=320 ChargedPartyLocationList=321 EquipmentIdType=322
ChargedPartyEquipment=323 ChargedPartyInformation=324 ContentProvider=327 ContentProviderIdList=328
InternetServiceProvider=329 InternetServiceProviderIdList=330 NetworkIdType=331 Network=332 NetworkList=333
ContentProviderName=334 ServingPartiesInformation=335 ContentTransactionCode=336 ContentTransactionType=337
TransactionDescriptionSupp=338 TransactionDetailDescription=339 TransactionShortDescription=340
TransactionIdentifier=341 TransactionAuthCode=342 TotalDataVolume=343 ChargeRefundIndicator=344
ContentChargingPoint=345 PaidIndicator=346 PaymentMethod=347 AdvisedChargeCurrency=348 AdvisedCharge=349 Commission=350
AdvisedChargeInformation=351 ContentServiceUsed=352 TotalTaxRefund=353 TotalDiscountRefund=354 TotalChargeRefund=355
TotalAdvisedCharge=356 TotalAdvisedChargeRefund=357 TotalCommission=358 TotalCommissionRefund=359
TotalAdvisedChargeValue=360 TotalAdvisedChargeValueList=361 TrackingCustomerIdentification=362 CustomerIdType=363
CustomerIdentifier=364 TrackingCustomerHomeIdList=365 TrackingCustomerHomeId=366 TrackedCustomerInformation=367
TrackingCustomerLocList=368 TrackingCustomerLocation=369 TrackedCustomerIdList=370 TrackingCustomerEquipment=371
TrackedCustomerIdentification=372 LCSSPInformation=373 LCSSPIdentificationList=374 LCSSPIdentification=375
TrackedCustomerHomeIdList=376 TrackedCustomerHomeId=377 ISPList=378 TrackedCustomerLocList=379
TrackedCustomerLocation=380 TrackedCustomerEquipment=381 LocationServiceUsage=382 LCSQosRequested=383
LCSRequestTimestamp=384 HorizontalAccuracyRequested=385 VerticalAccuracyRequested=386 ResponseTimeCategory=387
TrackingPeriod=388 TrackingFrequency=389 LCSQosDelivered=390 LCSTransactionStatus=391 HorizontalAccuracyDelivered=392
VerticalAccuracyDelivered=393 ResponseTime=394 PositioningMethod=395 AgeOfLocation=396 TaxValue=397 TaxableAmount=398
RecEntityId=400 NonChargedNumber=402 ThirdPartyNumber=403 CamelDestinationNumber=404 CallingNumber=405 CalledNumber=407
ChargeDetailTimeStamp=410 FixedDiscountValue=411 Discount=412 HomeLocationDescription=413
ServingLocationDescription=414 TotalCharge=415 TotalTransactionDuration=416 NetworkAccessIdentifier=417
IMSSignallingContext=418 SMSDestinationNumber=419 GuaranteedBitRate=420 MaximumBitRate=421 CamelInvocationFee=422
DiscountableAmount=423 HSCSDIndicator=424 SMSOriginator=425 BasicServiceCode=426 ChargeableSubscriber=427
DiscountApplied=428 ImeiOrEsn=429 ScuChargeableSubscriber=430 ThreeGcamelDestination=431 TaxIndicator=432
MessagingEvent=433 MobileSession=434 EventReference=435 ChargedParty=436 ElementId=437 ElementType=438
MessagingEventService=439 MobileSessionService=440 NetworkElement=441 NetworkElementList=442 NonChargedParty=443
NonChargedPartyNumber=444 NonChargedPublicUserId=445 PublicUserId=446 ServiceStartTimestamp=447 SessionChargeInfoList=448
SessionChargeInformation=449
`;

/**
 * The RAP 1.5 items (TD.32, module RAP-0105, IMPLICIT TAGS), beside the TAP items RAP reuses (Sender,
 * Recipient, FileSequenceNumber, the call events...). The numbers are those of the RAP modules as public
 * RAP implementations declare them (the same in RAP 1.3 and 1.5 for every item listed here).
 */
const RAP_15_TAGS = `
AccountingInfoError=512 AuditControlInfoError=513 AckFileAvailableTimeStamp=515 AckFileCreationTimeStamp=516
BatchControlError=517 EndMissingSeqNumber=518 ErrorCode=519 ErrorDetailList=520 ErrorDetail=521 MessageDescriptionError=522
NetworkInfoError=523 ItemOffset=524 RapFileAvailableTimeStamp=525 RapFileCreationTimeStamp=526 ReturnDetailsCount=528
StartMissingSeqNumber=532 TotalSevereReturnValue=533 ReturnBatch=534 Acknowledgement=535 ReturnDetailList=536
RapBatchControlInfo=537 MissingReturn=538 FatalReturn=539 SevereReturn=540 RapAuditControlInfo=541 TransferBatchError=542
RapReleaseVersionNumber=543 RapSpecificationVersionNumber=544 ErrorContext=545 PathItemId=546 ItemOccurrence=547
ItemLevel=548 ErrorContextList=549 RoamingPartner=550 OperatorSpecList=551 NotificationError=552 TotalSevereReturnTax=553
`;

function parseTable(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const pair of text.split(/\s+/)) {
    if (pair === "") continue;
    const [name, num] = pair.split("=");
    names.set(Number(num), name);
  }
  return names;
}

/** TAP 3.12 APPLICATION tag number -> item name. */
export const TAP_TAG_NAMES: ReadonlyMap<number, string> = parseTable(TAP_312_TAGS);

/** RAP 1.5 APPLICATION tag number -> item name (the TAP items included). */
export const RAP_TAG_NAMES: ReadonlyMap<number, string> = new Map([...TAP_TAG_NAMES, ...parseTable(RAP_15_TAGS)]);

/** The tag numbers the decoders use, by name (APPLICATION class). */
export const T = {
  TransferBatch: 1,
  Notification: 2,
  CallEventDetailList: 3,
  BatchControlInfo: 4,
  AccountingInfo: 5,
  NetworkInfo: 6,
  MessageDescriptionInfoList: 8,
  MobileOriginatedCall: 9,
  MobileTerminatedCall: 10,
  SupplServiceEvent: 11,
  ServiceCentreUsage: 12,
  GprsCall: 14,
  AuditControlInfo: 15,
  LocalTimeStamp: 16,
  ContentTransaction: 17,
  BasicServiceUsed: 39,
  BearerServiceCode: 40,
  CallEventDetailsCount: 43,
  CallEventStartTimeStamp: 44,
  CamelInvocationFee: 422,
  Charge: 62,
  ChargeDetail: 63,
  ChargeableUnits: 65,
  ChargedItem: 66,
  ChargedUnits: 68,
  ChargeInformation: 69,
  ChargeType: 71,
  ChargingId: 72,
  ChargingTimeStamp: 74,
  CurrencyConversion: 106,
  DepositTimeStamp: 88,
  Discounting: 94,
  DiscountCode: 91,
  DiscountInformation: 96,
  DiscountRate: 92,
  EarliestCallTimeStamp: 101,
  ExchangeRate: 104,
  ExchangeRateCode: 105,
  FileAvailableTimeStamp: 107,
  FileCreationTimeStamp: 108,
  FileSequenceNumber: 109,
  FileTypeIndicator: 110,
  Imsi: 129,
  LatestCallTimeStamp: 133,
  LocalCurrency: 135,
  Msisdn: 152,
  NumberOfDecimalPlaces: 159,
  RapFileSequenceNumber: 181,
  Recipient: 182,
  RecEntityInformation: 183,
  RecEntityCode: 184,
  RecEntityType: 186,
  ReleaseVersionNumber: 189,
  Sender: 196,
  SpecificationVersionNumber: 201,
  SupplServiceCode: 209,
  TapCurrency: 210,
  TaxCode: 212,
  TaxInformation: 213,
  TaxRate: 215,
  Taxation: 216,
  TaxType: 217,
  TeleServiceCode: 218,
  TotalCallEventDuration: 223,
  TotalDiscountValue: 225,
  TotalTaxValue: 226,
  TransferCutOffTimeStamp: 227,
  UtcTimeOffset: 231,
  UtcTimeOffsetCode: 232,
  UtcTimeOffsetInfo: 233,
  TapDecimalPlaces: 244,
  DataVolumeIncoming: 250,
  DataVolumeOutgoing: 251,
  AccessPointNameNI: 261,
  LCSRequestTimestamp: 384,
  TaxValue: 397,
  TaxableAmount: 398,
  RecEntityId: 400,
  FixedDiscountValue: 411,
  Discount: 412,
  TotalCharge: 415,
  MessagingEvent: 433,
  MobileSession: 434,
  ServiceStartTimestamp: 447,
  LocationService: 297,
  OrderPlacedTimeStamp: 300,
  TotalChargeRefund: 355,
  TotalTaxRefund: 353,
  TotalDiscountRefund: 354,
  AckFileAvailableTimeStamp: 515,
  AckFileCreationTimeStamp: 516,
  RapFileAvailableTimeStamp: 525,
  RapFileCreationTimeStamp: 526,
  ReturnBatch: 534,
  Acknowledgement: 535,
  RapBatchControlInfo: 537,
  RapReleaseVersionNumber: 543,
  RapSpecificationVersionNumber: 544,
  // RAP 1.5 return details and audit (lib/tap/rapEncode.ts writes them, lib/tap/rap.ts reads them).
  AccountingInfoError: 512,
  AuditControlInfoError: 513,
  BatchControlError: 517,
  EndMissingSeqNumber: 518,
  ErrorCode: 519,
  ErrorDetailList: 520,
  ErrorDetail: 521,
  MessageDescriptionError: 522,
  NetworkInfoError: 523,
  ItemOffset: 524,
  ReturnDetailsCount: 528,
  StartMissingSeqNumber: 532,
  TotalSevereReturnValue: 533,
  ReturnDetailList: 536,
  MissingReturn: 538,
  FatalReturn: 539,
  SevereReturn: 540,
  RapAuditControlInfo: 541,
  TransferBatchError: 542,
  ErrorContext: 545,
  PathItemId: 546,
  ItemOccurrence: 547,
  ItemLevel: 548,
  ErrorContextList: 549,
  NotificationError: 552,
  TotalSevereReturnTax: 553,
  UtcTimeOffsetInfoList: 234,
} as const;
